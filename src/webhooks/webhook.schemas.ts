import { z } from 'zod';
import { WIDGET_EVENT_TYPE } from '../events/widget-event.js';

/** `POST /events` body (SPEC §6): one widget event for one platform user. */
export const inboundWebhookBody = z.strictObject({
  type: z.string().regex(WIDGET_EVENT_TYPE, 'must look like "connect/<name>"'),
  metadata: z.record(z.string(), z.unknown()),
  userId: z.string().trim().min(1).max(256),
  sessionId: z.string().max(64).optional(),
  /** Standard Webhooks payloads often carry their own timestamp; accepted and ignored. */
  timestamp: z.string().max(64).optional(),
});
