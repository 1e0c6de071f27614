import express, { Router } from 'express';
import { AppError } from '../http/errors.js';
import { assertJsonWithinLimits } from '../http/json-body.js';
import { parseOr400 } from '../http/validate.js';
import type { WebhookService } from './webhook.service.js';
import { inboundWebhookBody } from './webhook.schemas.js';

export interface WebhookRoutesDeps {
  service: WebhookService;
  bodyLimitBytes: number;
}

/**
 * `POST /events`: signed webhook-style ingestion. The signature covers the raw bytes, so this
 * route reads them itself (a JSON parser in front would re-serialise and break every signature)
 * and parses JSON only after the signature holds.
 */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: deps.bodyLimitBytes });

  router.post('/events', raw, async (req, res) => {
    if (!req.is('application/json')) throw new AppError('unsupported_media_type', 'Send the event as application/json.');
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const delivery = deps.service.authenticate(req.headers, rawBody);

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new AppError('malformed_json', 'The request body is not valid JSON.');
    }
    assertJsonWithinLimits(json);
    const body = parseOr400(inboundWebhookBody, json, 'event');
    res.status(200).json(await deps.service.receive(body, delivery));
  });

  return router;
}
