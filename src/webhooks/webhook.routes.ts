import express, { Router } from 'express';
import type { EventService } from '../events/event.service.js';
import { AppError } from '../http/errors.js';
import { assertJsonWithinLimits } from '../http/json-body.js';
import { isPrintableAsciiToken } from '../lib/identifiers.js';
import { parseOr400 } from '../http/validate.js';
import type { Logger } from '../logger.js';
import { verifyWebhook, WebhookVerificationError } from './standard-webhooks.js';
import { inboundWebhookBody, WEBHOOK_ID_MAX_LENGTH } from './webhook.schemas.js';

export interface WebhookRoutesDeps {
  events: EventService;
  secrets: readonly string[];
  clock: () => Date;
  logger: Logger;
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
    if (deps.secrets.length === 0) throw new AppError('invalid_signature', 'Webhook ingestion is not configured (WEBHOOK_SECRETS is empty).');
    // Checked before any HMAC work: the id is the idempotency key, stored as sent.
    const webhookId = req.get('webhook-id')?.trim();
    if (webhookId && !isPrintableAsciiToken(webhookId, WEBHOOK_ID_MAX_LENGTH)) {
      throw new AppError('validation_failed', `webhook-id must be at most ${WEBHOOK_ID_MAX_LENGTH} printable ASCII characters.`, {
        fields: [{ field: 'webhook-id', message: `at most ${WEBHOOK_ID_MAX_LENGTH} printable ASCII characters, no spaces` }],
      });
    }
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let verified: { id: string; timestamp: number };
    try {
      verified = verifyWebhook({ headers: req.headers, rawBody, secrets: deps.secrets, now: deps.clock() });
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      deps.logger.warn({ security: true, event: 'webhook_rejected', reason: error.reason }, 'webhook signature rejected');
      throw new AppError('invalid_signature', `Signature verification failed: ${error.message}.`);
    }

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new AppError('malformed_json', 'The request body is not valid JSON.');
    }
    assertJsonWithinLimits(json);
    const body = parseOr400(inboundWebhookBody, json, 'event');
    // The service reads the session inside its transaction and refuses one of another user
    // (not_found); reading it here first too would cost a round trip per event.
    const result = await deps.events
      .record({
        userId: body.userId,
        sessionId: body.sessionId ?? null,
        source: 'webhook',
        type: body.type,
        metadata: body.metadata,
        occurredAt: new Date(verified.timestamp * 1000),
        webhookId: verified.id,
      })
      .catch((error: unknown) => {
        if (body.sessionId === undefined || !(error instanceof AppError) || error.code !== 'not_found') throw error;
        throw new AppError('validation_failed', 'sessionId is not a session of userId.', {
          fields: [{ field: 'sessionId', message: 'no such session for this user' }],
        });
      });
    res.status(200).json({
      received: true,
      duplicate: !result.recorded,
      connectionId: result.connection?.id ?? null,
      sessionStatus: result.session?.status ?? null,
    });
  });

  return router;
}
