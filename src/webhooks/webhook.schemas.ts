import { z } from 'zod';
import { WIDGET_EVENT_TYPE } from '../events/widget-event.js';
import { hasControlCharacters } from '../lib/identifiers.js';

/** `POST /events` body (SPEC §6): one widget event for one platform user. */
export const inboundWebhookBody = z.strictObject({
  type: z.string().regex(WIDGET_EVENT_TYPE, 'must look like "connect/<name>"'),
  metadata: z.record(z.string(), z.unknown()),
  userId: z
    .string()
    .trim()
    .min(1)
    .max(256)
    .refine((value) => !hasControlCharacters(value), 'must not contain control characters'),
  sessionId: z.string().max(64).optional(),
  /** Standard Webhooks payloads often carry their own timestamp; accepted and ignored. */
  timestamp: z.string().max(64).optional(),
});

export type InboundWebhookBody = z.infer<typeof inboundWebhookBody>;

/** Standard Webhooks ids are short tokens (`msg_…`); this bounds what the idempotency table stores. */
export const WEBHOOK_ID_MAX_LENGTH = 256;
