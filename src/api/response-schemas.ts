import { z } from 'zod';
import { errorStatus, type ErrorCode } from '../http/errors.js';
import { JOB_TYPES } from '../ucw/job-types.js';

/**
 * Response shapes of the public API, as zod schemas: the one declaration of each shape. They feed
 * the OpenAPI document, the services' TypeScript types derive from them (z.infer), and the
 * tests parse real responses with them, which is what keeps the document true.
 */
const timestamp = z.iso.datetime({ offset: false });

export const connectionSchema = z
  .strictObject({
  id: z.string().regex(/^conn_/),
  aggregator: z.string(),
  institutionId: z.string().nullable(),
  status: z.enum(['pending', 'connected', 'needs_attention', 'error', 'disconnected', 'deleted']),
  statusCode: z.int().nullable(),
  jobTypes: z.array(z.enum(JOB_TYPES)),
  verified: z.boolean(),
  dataReady: z.boolean(),
  duplicateOf: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastConnectedAt: timestamp.nullable(),
  })
  // Named once in the OpenAPI document (`#/components/schemas/Connection`) and referenced everywhere.
  .meta({ id: 'Connection' });

export const connectionListSchema = z.strictObject({ connections: z.array(connectionSchema) });

export const sessionStatusSchema = z.enum(['created', 'opened', 'connected', 'failed', 'cancelled', 'expired']);

/** The latest `connect/memberError` of an open session (not an end: the widget lets the person retry). */
export const lastErrorSchema = z.strictObject({ statusCode: z.int().nullable(), at: timestamp });

export const connectSessionSchema = z.strictObject({
  id: z.string().regex(/^cs_/),
  status: sessionStatusSchema,
  mode: z.enum(['new', 'refresh']),
  jobTypes: z.array(z.enum(JOB_TYPES)),
  expiresAt: timestamp,
  lastError: lastErrorSchema.nullable(),
  connection: connectionSchema.nullable(),
});

export const connectUrlResultSchema = z.strictObject({
  sessionId: z.string().regex(/^cs_/),
  url: z.url(),
  expiresAt: timestamp,
  mode: z.enum(['new', 'refresh']),
  existingConnectionId: z.string().optional(),
});

/** What the host page forwards to the frontend: the session's truth after the event, never an aggregator id. */
export const forwardedEventSchema = z.strictObject({
  type: z.string(),
  metadata: z.strictObject({
    sessionId: z.string(),
    connectionId: z.string().nullable(),
    aggregator: z.string().nullable(),
    institutionId: z.string().nullable(),
    status: sessionStatusSchema,
    /** Only on `connect/memberError`. */
    error: z.strictObject({ statusCode: z.int().nullable() }).optional(),
  }),
});

export const relayAnswerSchema = z.strictObject({
  recorded: z.boolean(),
  sessionStatus: sessionStatusSchema,
  forward: forwardedEventSchema,
});

/** `POST /connect/:sessionId/cancel`: the session as it now stands, and the `connect/cancelled` copy for the frontend. */
export const cancelAnswerSchema = z.strictObject({
  sessionStatus: sessionStatusSchema,
  forward: forwardedEventSchema,
});

export const webhookAnswerSchema = z.strictObject({
  received: z.literal(true),
  duplicate: z.boolean(),
  connectionId: z.string().nullable(),
  sessionStatus: sessionStatusSchema.nullable(),
});

export const problemSchema = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.enum(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]),
  requestId: z.string(),
  errors: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
}).meta({ id: 'Problem' });

export const healthSchema = z.strictObject({ status: z.literal('ok') });

export const readinessSchema = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  dependencies: z.record(
    z.string(),
    z.strictObject({ status: z.enum(['up', 'down']), critical: z.boolean() }),
  ),
});

export const devLoginAnswerSchema = z.strictObject({ userId: z.string(), token: z.string(), warning: z.string() });
