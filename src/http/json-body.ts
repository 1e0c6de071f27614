import express, { type RequestHandler } from 'express';
import { AppError } from './errors.js';

/**
 * JSON body parsing for one route (never global: `POST /events` must see its raw bytes).
 * A body with any other content type is a 415; an empty body is left undefined for the schema to judge.
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
  return [requireJson, express.json({ limit: limitBytes, type: ['application/json', 'application/*+json'] })];
}
