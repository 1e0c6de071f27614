import express, { type RequestHandler } from 'express';
import { jsonLimitViolation, REQUEST_JSON_LIMITS } from '../lib/json-limits.js';
import { AppError } from './errors.js';

/** Refuses parsed JSON deeper or wider than `REQUEST_JSON_LIMITS`: a 413 naming the limit. */
export function assertJsonWithinLimits(value: unknown): void {
  const violation = jsonLimitViolation(value, REQUEST_JSON_LIMITS);
  if (violation) throw new AppError('payload_too_large', violation);
}

/**
 * JSON body parsing for one route (never global: `POST /events` must see its raw bytes).
 * A body with any other content type is a 415; an empty body is left undefined for the schema
 * to judge; a body nested or spread beyond the JSON limits is a 413.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = req.get('content-length') !== '0' && (req.get('content-length') !== undefined || req.get('transfer-encoding') !== undefined);
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      next(new AppError('unsupported_media_type', 'Send the body as application/json.'));
      return;
    }
    next();
  };
  const withinLimits: RequestHandler = (req, _res, next) => {
    assertJsonWithinLimits(req.body);
    next();
  };
  return [requireJson, express.json({ limit: limitBytes, type: ['application/json', 'application/*+json'] }), withinLimits];
}
