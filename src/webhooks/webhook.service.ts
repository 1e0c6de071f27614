import type { EventService } from '../events/event.service.js';
import { AppError } from '../http/errors.js';
import { verifyWebhook, WebhookVerificationError } from '../lib/standard-webhooks.js';
import type { Logger } from '../logger.js';
import { isPrintableAsciiToken } from '../lib/identifiers.js';
import { WEBHOOK_ID_MAX_LENGTH, type InboundWebhookBody } from './webhook.schemas.js';

export interface WebhookServiceDeps {
  events: EventService;
  /** WEBHOOK_SECRETS; empty turns ingestion off. */
  secrets: readonly string[];
  clock: () => Date;
  logger: Logger;
}

/** One header as Express reads it (a repeated header: its first value). */
const headerOf = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export type WebhookService = ReturnType<typeof createWebhookService>;

/** Signed webhook-style ingestion of widget events (`POST /events`, SPEC §6). */
export function createWebhookService(deps: WebhookServiceDeps) {
  return {
    /** The delivery's id and timestamp once its Standard Webhooks signature holds; `invalid_signature` otherwise. */
    authenticate(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): { id: string; timestamp: number } {
      if (deps.secrets.length === 0) throw new AppError('invalid_signature', 'Webhook ingestion is not configured (WEBHOOK_SECRETS is empty).');
      // Checked before any HMAC work: the id is the idempotency key, stored as sent.
      const webhookId = headerOf(headers, 'webhook-id')?.trim();
      if (webhookId && !isPrintableAsciiToken(webhookId, WEBHOOK_ID_MAX_LENGTH)) {
        throw new AppError('validation_failed', `webhook-id must be at most ${WEBHOOK_ID_MAX_LENGTH} printable ASCII characters.`, {
          fields: [{ field: 'webhook-id', message: `at most ${WEBHOOK_ID_MAX_LENGTH} printable ASCII characters, no spaces` }],
        });
      }
      try {
        return verifyWebhook({ headers, rawBody, secrets: deps.secrets, now: deps.clock() });
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        deps.logger.warn({ security: true, event: 'webhook_rejected', reason: error.reason }, 'webhook signature rejected');
        throw new AppError('invalid_signature', `Signature verification failed: ${error.message}.`);
      }
    },

    /** Records the event for its user; a `sessionId` must name one of that user's sessions. */
    async receive(body: InboundWebhookBody, delivery: { id: string; timestamp: number }) {
      // The event service reads the session inside its transaction and refuses one of another
      // user (not_found); reading it here first too would cost a round trip per event.
      const result = await deps.events
        .record({
          userId: body.userId,
          sessionId: body.sessionId ?? null,
          source: 'webhook',
          type: body.type,
          metadata: body.metadata,
          occurredAt: new Date(delivery.timestamp * 1000),
          webhookId: delivery.id,
        })
        .catch((error: unknown) => {
          if (body.sessionId === undefined || !(error instanceof AppError) || error.code !== 'not_found') throw error;
          throw new AppError('validation_failed', 'sessionId is not a session of userId.', {
            fields: [{ field: 'sessionId', message: 'no such session for this user' }],
          });
        });
      return {
        received: true,
        duplicate: !result.recorded,
        connectionId: result.connection?.id ?? null,
        sessionStatus: result.session?.status ?? null,
      };
    },
  };
}
