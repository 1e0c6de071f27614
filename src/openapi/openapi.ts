import { z } from 'zod';
import { connectUrlBody } from '../connect-sessions/connect-url.schemas.js';
import { widgetEventSchema } from '../events/widget-event.js';
import { errorStatus, errorTitle, type ErrorCode } from '../http/errors.js';
import { inboundWebhookBody } from '../webhooks/webhook.schemas.js';
import {
  cancelAnswerSchema,
  connectSessionSchema,
  connectUrlResultSchema,
  connectionListSchema,
  connectionSchema,
  devLoginAnswerSchema,
  healthSchema,
  problemSchema,
  readinessSchema,
  relayAnswerSchema,
  webhookAnswerSchema,
} from '../api/response-schemas.js';

type Json = Record<string, unknown>;

/**
 * zod → JSON Schema, cleaned of what only zod needs: the ±2^53 bounds of every integer and the
 * long regular expressions behind `format: date-time` / `date` (the format says it). Schemas
 * with a `.meta({ id })` become `#/components/schemas/<id>` references.
 */
function convert(s: z.ZodType, io: 'input' | 'output'): { root: Json; defs: Record<string, Json> } {
  const raw = z.toJSONSchema(s, { io, unrepresentable: 'any', override: ({ jsonSchema }) => clean(jsonSchema as Json) });
  const { $schema: _ignored, $defs, ...root } = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  return { root, defs: ($defs ?? {}) as Record<string, Json> };
}

function clean(node: Json): void {
  if (node.type === 'integer' && node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
  if (node.type === 'integer' && node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
  if (node.format === 'date-time' || node.format === 'date') delete node.pattern;
}

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): Json => convert(s, io).root;

/** A named schema (`.meta({ id })`) as its component body. */
function component(s: z.ZodType, id: string): Json {
  const body = convert(s, 'output').defs[id];
  if (!body) throw new Error(`schema ${id} has no .meta({ id: '${id}' })`);
  return body;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const json = (s: z.ZodType | Json, description: string, example: unknown) => ({
  description,
  content: { 'application/json': { schema: s instanceof z.ZodType ? schema(s) : s, example } },
});

const requestBody = (s: z.ZodType | Json, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema: s instanceof z.ZodType ? schema(s, 'input') : s, example } },
});

const problemExample = (code: ErrorCode, detail: string) => ({
  type: `urn:ucw-bff:problem:${code}`,
  title: errorTitle[code],
  status: errorStatus[code],
  detail,
  code,
  requestId: '5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30',
});

/** A problem+json response; the example shows the code a client most likely meets there. */
const problem = (description: string, code: ErrorCode, detail: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem'), example: problemExample(code, detail) } },
});

const html = (description: string, example = '<!doctype html><html lang="en">…</html>') => ({ description, content: { 'text/html': { schema: { type: 'string' }, example } } });

// Errors shared by groups of operations.
const internal = { '500': problem('Unexpected failure (logged with the request id)', 'internal', 'Something went wrong on our side.') };
const ipLimited = { '429': problem('Too many requests from this client IP (Retry-After)', 'rate_limited', 'Too many requests. Try again in 30 seconds.') };
const jsonBodyErrors = {
  '413': problem('Body larger than BODY_LIMIT_BYTES, or JSON deeper than 32 levels or with more than 1,000 entries', 'payload_too_large', 'The request body is larger than 65536 bytes.'),
  '415': problem('Body is not application/json', 'unsupported_media_type', 'Send the body as application/json.'),
};
const overloaded = { '503': problem('No database connection free in time (Retry-After)', 'overloaded', 'The service is busy; retry shortly.') };
const unauthenticated = { '401': problem('No or invalid user token', 'unauthenticated', 'A valid bearer token or auth cookie is required.') };
const notFound = (what: string) => ({ '404': problem(`No such ${what}, or not this user’s`, 'not_found', `No such ${what}.`) });
const csrf = { '403': problem('Cookie-authenticated request from an origin not in ALLOWED_ORIGINS', 'forbidden', 'This origin may not make cookie-authenticated changes.') };
const ucwErrors = {
  '502': problem('The UCW refused the request or the BFF’s credentials, or answered badly', 'ucw_rejected_request', 'The UCW rejected the request: "institutionId" is not allowed.'),
  '503': problem('The UCW is unreachable, or the BFF is overloaded (Retry-After)', 'ucw_unavailable', 'The UCW could not be reached.'),
  '504': problem('The UCW did not answer in time', 'ucw_timeout', 'The UCW did not answer within 10000 ms.'),
};

const SESSION_ID = 'cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4';
const CONNECTION_ID = 'conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0';
const connectionExample = {
  id: CONNECTION_ID,
  aggregator: 'sophtron',
  institutionId: 'sandbox-bank',
  status: 'connected',
  statusCode: 0,
  jobTypes: ['transactions'],
  verified: true,
  dataReady: true,
  duplicateOf: null,
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:05.000Z',
  lastConnectedAt: '2026-11-30T10:00:03.000Z',
};
const forwardExample = { type: 'connect/memberConnected', metadata: { sessionId: SESSION_ID, connectionId: CONNECTION_ID, aggregator: 'sophtron', institutionId: 'sandbox-bank', status: 'connected' } };

const idParam = (name: string, description: string, example: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description, example });
const capability = [
  { name: 'exp', in: 'query', required: true, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Capability expiry (unix seconds)', example: '1764500000' },
  { name: 'sig', in: 'query', required: true, schema: { type: 'string' }, description: 'Capability HMAC', example: 'q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE' },
];

export interface OpenApiOptions {
  /** The configured AUTH_COOKIE_NAME: the cookie scheme names the real cookie. */
  cookieName: string;
}

/** The BFF's own OpenAPI 3.1 document (`GET /openapi.json`). Tests check it against the routes and lint it. */
export function openApiDocument(publicUrl: string, options: OpenApiOptions = { cookieName: 'ucw_bff_auth' }): Json {
  const user = [{ bearerAuth: [] }, { cookieAuth: [] }];
  const open: Json[] = [];
  // Every user route: failed authentications are limited per IP, and any route may find the pool busy.
  const authLimited = { '429': problem('Too many failed authentications from this IP (Retry-After)', 'rate_limited', 'Too many requests. Try again in 30 seconds.') };
  const userErrors = { ...unauthenticated, ...authLimited, ...overloaded, ...internal };
  return {
    openapi: '3.1.0',
    info: {
      title: 'ucw-bff',
      version: '0.1.0',
      description:
        'Backend-for-frontend for the Universal Connect Widget: connect URLs, the host page, event relay, connections, signed events. Errors are application/problem+json with a `code` from a closed set.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: publicUrl, description: 'This ucw-bff' }],
    tags: [
      { name: 'connect', description: 'Starting a connection and following it' },
      { name: 'connections', description: 'The user’s connections and their data' },
      { name: 'host page', description: 'Called by the host page and the browser, authorized by a signed link' },
      { name: 'events', description: 'Server-to-server event ingestion' },
      { name: 'browser', description: 'The drop-in script and the sandbox pages' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The platform user token' },
        cookieAuth: { type: 'apiKey', in: 'cookie', name: options.cookieName, description: 'The same token in the auth cookie; state changes also need an Origin in ALLOWED_ORIGINS' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
        standardWebhooks: { type: 'apiKey', in: 'header', name: 'webhook-signature', description: 'Standard Webhooks signature, with webhook-id and webhook-timestamp' },
      },
      schemas: {
        Problem: component(problemSchema, 'Problem'),
        Connection: component(connectionSchema, 'Connection'),
      },
    },
    paths: {
      '/connect-url': {
        post: {
          operationId: 'createConnectUrl',
          tags: ['connect'],
          summary: 'Create a connect session and its URL',
          security: user,
          requestBody: requestBody(connectUrlBody, { jobTypes: ['transactions'], institutionId: 'sandbox-bank' }),
          responses: {
            '201': json(connectUrlResultSchema, 'The session', { sessionId: SESSION_ID, url: `${publicUrl}/connect/${SESSION_ID}?exp=1764500000&sig=q3X0bq4V`, expiresAt: '2026-11-30T10:30:00.000Z', mode: 'new' }),
            '400': problem('Invalid body (each field named in `errors`), or malformed JSON', 'validation_failed', 'jobTypes: at least one job type is required'),
            ...csrf,
            ...notFound('connection to refresh'),
            ...jsonBodyErrors,
            ...userErrors,
            ...ucwErrors,
            '429': problem('Too many connect URLs for this user, or failed authentications from this IP (Retry-After)', 'rate_limited', 'Too many requests. Try again in 30 seconds.'),
          },
        },
      },
      '/connect-sessions/{id}': {
        get: {
          operationId: 'getConnectSession',
          tags: ['connect'],
          summary: 'A connect session and, once connected, its connection',
          security: user,
          parameters: [idParam('id', 'Session id', SESSION_ID)],
          responses: {
            '200': json(connectSessionSchema, 'The session', { id: SESSION_ID, status: 'connected', mode: 'new', jobTypes: ['transactions'], expiresAt: '2026-11-30T10:30:00.000Z', lastError: null, connection: connectionExample }),
            ...notFound('connect session'),
            ...userErrors,
          },
        },
      },
      '/connect-sessions/{id}/stream': {
        get: {
          operationId: 'streamConnectSession',
          tags: ['connect'],
          summary: 'Server-Sent Events of the session’s status changes (Last-Event-ID resumes)',
          security: user,
          parameters: [idParam('id', 'Session id', SESSION_ID), { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, example: '3' }],
          responses: {
            '200': {
              description: 'event: snapshot | status | connected | verified | dataReady | failed | verificationFailed',
              content: { 'text/event-stream': { schema: { type: 'string' }, example: `event: snapshot\ndata: {"sessionId":"${SESSION_ID}","status":"opened"}\n\nid: 2\nevent: connected\ndata: {"connection":{"id":"${CONNECTION_ID}"}}\n\n` } },
            },
            ...notFound('connect session'),
            ...userErrors,
          },
        },
      },
      '/connections': {
        get: {
          operationId: 'listConnections',
          tags: ['connections'],
          summary: 'The user’s connections (deleted ones left out)',
          security: user,
          responses: { '200': json(connectionListSchema, 'Connections', { connections: [connectionExample] }), ...userErrors },
        },
      },
      '/connections/{id}': {
        get: {
          operationId: 'getConnection',
          tags: ['connections'],
          summary: 'One connection (also when deleted)',
          security: user,
          parameters: [idParam('id', 'Connection id', CONNECTION_ID)],
          responses: { '200': json(ref('Connection'), 'The connection', connectionExample), ...notFound('connection'), ...userErrors },
        },
        delete: {
          operationId: 'deleteConnection',
          tags: ['connections'],
          summary: 'Delete a connection (at the UCW too when UCW_DELETE_ENABLED)',
          security: user,
          parameters: [idParam('id', 'Connection id', CONNECTION_ID)],
          responses: { '204': { description: 'Deleted' }, ...csrf, ...notFound('connection'), ...userErrors, ...ucwErrors },
        },
      },
      ...Object.fromEntries(
        (['accounts', 'identity', 'transactions'] as const).map((kind) => [
          `/connections/{id}/${kind}`,
          {
            get: {
              operationId: `getConnection${kind[0]!.toUpperCase()}${kind.slice(1)}`,
              tags: ['connections'],
              summary: `The connection’s ${kind}, from the UCW data endpoints (UCW_DATA_ENDPOINTS)`,
              security: user,
              parameters: [
                idParam('id', 'Connection id', CONNECTION_ID),
                ...(kind === 'transactions'
                  ? [
                      { name: 'accountId', in: 'query', required: true, schema: { type: 'string' }, example: 'acct-1' },
                      { name: 'startDate', in: 'query', required: false, schema: { type: 'string', format: 'date' }, example: '2026-11-01' },
                      { name: 'endDate', in: 'query', required: false, schema: { type: 'string', format: 'date' }, example: '2026-11-30' },
                    ]
                  : []),
              ],
              responses: {
                '200': json({ type: 'object' }, 'UCW data as the UCW returns it', kind === 'accounts' ? { accounts: [{ accountId: 'acct-1', accountType: 'CHECKING' }] } : kind === 'identity' ? { customers: [{ customerId: 'cust-1' }] } : { transactions: [{ transactionId: 'tx-1', amount: 12.5 }] }),
                '400': problem('Invalid query', 'validation_failed', 'accountId: Required'),
                ...notFound('connection (or the data endpoints are off)'),
                ...userErrors,
                ...ucwErrors,
                '429': problem('Too many data requests for this user (RATE_LIMIT_DATA_PER_MIN), or failed authentications from this IP (Retry-After)', 'rate_limited', 'Too many requests. Try again in 30 seconds.'),
              },
            },
          },
        ]),
      ),
      '/connect/{sessionId}': {
        head: {
          operationId: 'checkHostPage',
          tags: ['host page'],
          summary: 'Checks a host page link without spending a load or a UCW token (link previews)',
          security: open,
          parameters: [idParam('sessionId', 'Session id', SESSION_ID), ...capability],
          responses: {
            '200': { description: 'Valid' },
            '403': { description: 'Invalid link' },
            '404': { description: 'Unknown session' },
            '410': { description: 'Expired or finished' },
            '429': { description: 'Too many loads, or too many requests from this IP' },
            '500': { description: 'Unexpected failure' },
          },
        },
        get: {
          operationId: 'getHostPage',
          tags: ['host page'],
          summary: 'The host page embedding the widget (capability in the query)',
          security: open,
          parameters: [idParam('sessionId', 'Session id', SESSION_ID), ...capability],
          responses: {
            '200': html('The page'),
            '403': html('Invalid link'),
            '404': html('Unknown session'),
            '410': html('Expired or finished'),
            '429': html('Too many loads, or too many requests from this IP'),
            '500': html('Unexpected failure'),
            '502': html('UCW error, with retry'),
            '503': html('UCW unreachable, with retry'),
            '504': html('UCW slow, with retry'),
          },
        },
      },
      '/connect/{sessionId}/widget-url': {
        post: {
          operationId: 'createWidgetUrl',
          tags: ['host page'],
          summary: 'A fresh widget URL for the host page’s popup presentation',
          security: open,
          parameters: [idParam('sessionId', 'Session id', SESSION_ID), ...capability],
          responses: {
            '200': json(z.strictObject({ url: z.url() }), 'The widget URL', { url: 'https://ucw.example.com/widget?token=8c1f0e3a' }),
            '403': problem('Invalid capability, or a foreign Origin', 'capability_invalid', 'This connect link is incomplete or has been altered.'),
            '404': problem('Unknown session', 'not_found', 'No such connect session.'),
            '410': problem('Expired or finished', 'capability_expired', 'This connect link has expired.'),
            '429': problem('Too many loads (SESSION_MAX_LOADS), or too many requests from this IP', 'rate_limited', 'This connect link has been opened too many times.'),
            ...internal,
            ...ucwErrors,
          },
        },
      },
      '/connect/{sessionId}/events': {
        post: {
          operationId: 'relayEvent',
          tags: ['host page'],
          summary: 'Relay one widget event (host page capability, or the user for embed "direct")',
          security: [{}, ...user],
          parameters: [idParam('sessionId', 'Session id', SESSION_ID), { ...capability[0], required: false }, { ...capability[1], required: false }],
          requestBody: requestBody(widgetEventSchema, { type: 'connect/memberConnected', metadata: { aggregator: 'sophtron', connectionId: 'MBR-123', aggregatorUserId: 'USR-456', ucpInstitutionId: 'sandbox-bank' } }),
          responses: {
            '200': json(relayAnswerSchema, 'Recorded (or a duplicate); what to forward to the frontend', { recorded: true, sessionStatus: 'connected', forward: forwardExample }),
            '400': problem('Invalid event, or malformed JSON', 'validation_failed', 'event.type: must look like "connect/<name>"'),
            ...unauthenticated,
            '403': problem('Invalid capability', 'capability_invalid', 'This connect link is incomplete or has been altered.'),
            ...notFound('connect session'),
            '409': problem('The aggregator connection belongs to another user', 'conflict', 'This connection belongs to another user.'),
            '410': problem('Session expired', 'capability_expired', 'This connect session has expired.'),
            ...jsonBodyErrors,
            ...ipLimited,
            ...overloaded,
            ...internal,
          },
        },
      },
      '/connect/{sessionId}/cancel': {
        post: {
          operationId: 'cancelConnectSession',
          tags: ['host page'],
          summary: 'The person cancelled (host page Cancel, or connect.js closed): the session ends `cancelled` (host page capability, or the user for embed "direct")',
          security: [{}, ...user],
          parameters: [idParam('sessionId', 'Session id', SESSION_ID), { ...capability[0], required: false }, { ...capability[1], required: false }],
          responses: {
            '200': json(cancelAnswerSchema, 'The session as it now stands (an ended session is unchanged) and the `connect/cancelled` copy for the frontend', {
              sessionStatus: 'cancelled',
              forward: { type: 'connect/cancelled', metadata: { sessionId: SESSION_ID, connectionId: null, aggregator: null, institutionId: null, status: 'cancelled' } },
            }),
            ...unauthenticated,
            '403': problem('Invalid capability', 'capability_invalid', 'This connect link is incomplete or has been altered.'),
            ...notFound('connect session'),
            '410': problem('Link expired', 'capability_expired', 'This connect session has expired.'),
            ...ipLimited,
            ...overloaded,
            ...internal,
          },
        },
      },
      '/events': {
        post: {
          operationId: 'ingestEvent',
          tags: ['events'],
          summary: 'Signed webhook-style event ingestion (Standard Webhooks)',
          security: [{ standardWebhooks: [] }],
          requestBody: requestBody(inboundWebhookBody, { type: 'connect/memberConnected', userId: 'alice', sessionId: SESSION_ID, metadata: { aggregator: 'sophtron', connectionId: 'MBR-123', ucpInstitutionId: 'sandbox-bank' } }),
          responses: {
            '200': json(webhookAnswerSchema, 'Applied, or a redelivery', { received: true, duplicate: false, connectionId: CONNECTION_ID, sessionStatus: 'connected' }),
            '400': problem('Invalid body (fields named), malformed JSON, or a webhook-id that is not 1–256 printable ASCII characters', 'validation_failed', 'userId: Required'),
            '401': problem('Missing or bad signature, or a stale timestamp', 'invalid_signature', 'No signature matches.'),
            '409': problem('The aggregator connection belongs to another user', 'conflict', 'This connection belongs to another user.'),
            ...jsonBodyErrors,
            ...ipLimited,
            ...overloaded,
            ...internal,
          },
        },
      },
      '/connect.js': {
        get: {
          operationId: 'getConnectScript',
          tags: ['browser'],
          summary: 'The drop-in browser script (window.UcwConnect)',
          security: open,
          responses: { '200': { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' }, example: '/*! UcwConnect … */' } } }, '304': { description: 'Not modified (ETag)' }, ...ipLimited, ...internal },
        },
      },
      '/connect.d.ts': {
        get: {
          operationId: 'getConnectScriptTypes',
          tags: ['browser'],
          summary: 'TypeScript declarations of connect.js',
          security: open,
          responses: { '200': { description: 'TypeScript', content: { 'application/typescript': { schema: { type: 'string' }, example: 'declare namespace UcwConnect { … }' } } }, '304': { description: 'Not modified (ETag)' }, ...ipLimited, ...internal },
        },
      },
      '/': {
        get: { operationId: 'getDemoPage', tags: ['browser'], summary: 'Sandbox demo page (development only)', security: open, responses: { '200': html('The demo'), '404': problem('Not in sandbox mode', 'not_found', 'Not found.'), ...ipLimited, ...internal } },
      },
      '/demo': {
        get: { operationId: 'getDemoPageAlias', tags: ['browser'], summary: 'Sandbox demo page (development only)', security: open, responses: { '200': html('The demo'), '404': problem('Not in sandbox mode', 'not_found', 'Not found.'), ...ipLimited, ...internal } },
      },
      '/dev/login': {
        post: {
          operationId: 'devLogin',
          tags: ['browser'],
          summary: 'Development sign-in as any user id (never in production)',
          security: open,
          requestBody: requestBody({ type: 'object', properties: { userId: { type: 'string', maxLength: 128, pattern: '^[\\w.@:-]+$' } }, required: ['userId'], additionalProperties: false }, { userId: 'alice' }),
          responses: {
            '200': json(devLoginAnswerSchema, 'Signed in; the auth cookie is set', { userId: 'alice', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl', warning: 'Development login: never enabled in production.' }),
            '400': problem('Invalid user id, or malformed JSON', 'validation_failed', 'userId: letters, digits and _ . @ : - only'),
            '404': problem('Dev login disabled', 'not_found', 'Not found.'),
            ...jsonBodyErrors,
            ...ipLimited,
            ...internal,
          },
        },
      },
      '/dev/logout': {
        post: { operationId: 'devLogout', tags: ['browser'], summary: 'Development sign-out', security: open, responses: { '204': { description: 'Cookie cleared' }, '404': problem('Dev login disabled', 'not_found', 'Not found.'), ...ipLimited, ...internal } },
      },
      '/me': {
        get: { operationId: 'getMe', tags: ['connect'], summary: 'Who the request is authenticated as', security: user, responses: { '200': json(z.strictObject({ userId: z.string() }), 'The user', { userId: 'alice' }), ...userErrors } },
      },
      '/healthz': {
        get: { operationId: 'getHealth', tags: ['operations'], summary: 'Liveness (never rate-limited, touches no dependency)', security: open, responses: { '200': json(healthSchema, 'Alive', { status: 'ok' }), ...internal } },
      },
      '/readyz': {
        get: {
          operationId: 'getReadiness',
          tags: ['operations'],
          summary: 'Readiness: the database (critical) and the UCW (shown)',
          security: open,
          responses: {
            '200': json(readinessSchema, 'Ready', { status: 'ready', dependencies: { database: { status: 'up', critical: true }, ucw: { status: 'up', critical: false } } }),
            ...ipLimited,
            ...internal,
            '503': json(readinessSchema, 'Not ready', { status: 'not_ready', dependencies: { database: { status: 'down', critical: true }, ucw: { status: 'up', critical: false } } }),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'getMetrics',
          tags: ['operations'],
          summary: 'Prometheus metrics',
          security: [{}, { metricsToken: [] }],
          responses: {
            '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' }, example: 'ucw_bff_outbox_dead_letters 0\n' } } },
            '401': problem('METRICS_TOKEN required', 'unauthenticated', 'A valid metrics token is required.'),
            ...ipLimited,
            ...internal,
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          tags: ['operations'],
          summary: 'This document',
          security: open,
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' }, example: { openapi: '3.1.0' } } } }, ...ipLimited, ...internal },
        },
      },
    },
  };
}
