import { z } from 'zod';
import { connectUrlBody } from '../connect-sessions/connect-url.schemas.js';
import { widgetEventSchema } from '../events/widget-event.js';
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
} from './api-schemas.js';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): Json => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

const json = (s: z.ZodType | Json, description: string) => ({
  description,
  content: { 'application/json': { schema: s instanceof z.ZodType ? schema(s) : s } },
});

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

const userSecurity = [{ bearerAuth: [] }, { cookieAuth: [] }];
const capability = [
  { name: 'exp', in: 'query', required: true, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Capability expiry (unix seconds)' },
  { name: 'sig', in: 'query', required: true, schema: { type: 'string' }, description: 'Capability HMAC' },
];
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const userErrors = {
  '401': problem('No or invalid user token'),
  '404': problem('Not found, or not this user’s'),
  '429': problem('Rate limited: too many failed authentications from this IP, or a per-user limit'),
  '503': problem('overloaded: no database connection free in time (Retry-After), or the UCW is unreachable'),
};
const ucwErrors = {
  '502': problem('The UCW refused the request or the BFF’s credentials, or answered badly'),
  '503': problem('The UCW is unreachable, or the BFF is overloaded (Retry-After)'),
  '504': problem('The UCW did not answer in time'),
};

/** The BFF's own OpenAPI 3.1 document (`GET /openapi.json`). A test checks it against the app's routes. */
export function openApiDocument(publicUrl: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ucw-bff',
      version: '0.1.0',
      description: 'Backend-for-frontend for the Universal Connect Widget: connect URLs, the host page, event relay, connections, signed events.',
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The platform user token' },
        cookieAuth: { type: 'apiKey', in: 'cookie', name: 'AUTH_COOKIE_NAME', description: 'The same token in the auth cookie; state changes also need an allowed Origin' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
        standardWebhooks: { type: 'apiKey', in: 'header', name: 'webhook-signature', description: 'Standard Webhooks signature with webhook-id and webhook-timestamp' },
      },
      schemas: {
        Problem: schema(problemSchema),
        Connection: schema(connectionSchema),
      },
    },
    paths: {
      '/connect-url': {
        post: {
          summary: 'Create a connect session and its URL',
          security: userSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: schema(connectUrlBody, 'input') } } },
          responses: { '201': json(connectUrlResultSchema, 'The session'), '400': problem('Invalid body'), '403': problem('Cross-site cookie request'), '413': problem('Body too large, or JSON deeper than 32 levels or with more than 1,000 entries'), ...userErrors, ...ucwErrors },
        },
      },
      '/connect-sessions/{id}': {
        get: {
          summary: 'A connect session and, once connected, its connection',
          security: userSecurity,
          parameters: [idParam('id', 'Session id')],
          responses: { '200': json(connectSessionSchema, 'The session'), ...userErrors },
        },
      },
      '/connect-sessions/{id}/stream': {
        get: {
          summary: 'Server-Sent Events of the session’s status changes (Last-Event-ID resumes)',
          security: userSecurity,
          parameters: [idParam('id', 'Session id'), { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }],
          responses: { '200': { description: 'event: snapshot | status | connected | verified | dataReady | failed | verificationFailed', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...userErrors },
        },
      },
      '/connections': {
        get: { summary: 'The user’s connections', security: userSecurity, responses: { '200': json(connectionListSchema, 'Connections'), '401': userErrors['401'], '429': userErrors['429'] } },
      },
      '/connections/{id}': {
        get: { summary: 'One connection', security: userSecurity, parameters: [idParam('id', 'Connection id')], responses: { '200': json({ $ref: '#/components/schemas/Connection' }, 'The connection'), ...userErrors } },
        delete: {
          summary: 'Delete a connection (at the UCW too when UCW_DELETE_ENABLED)',
          security: userSecurity,
          parameters: [idParam('id', 'Connection id')],
          responses: { '204': { description: 'Deleted' }, '403': problem('Cross-site cookie request'), ...userErrors, ...ucwErrors },
        },
      },
      ...Object.fromEntries(
        (['accounts', 'identity', 'transactions'] as const).map((kind) => [
          `/connections/{id}/${kind}`,
          {
            get: {
              summary: `The connection’s ${kind}, from the UCW data endpoints (UCW_DATA_ENDPOINTS)`,
              security: userSecurity,
              parameters: [
                idParam('id', 'Connection id'),
                ...(kind === 'transactions'
                  ? [
                      { name: 'accountId', in: 'query', required: true, schema: { type: 'string' } },
                      { name: 'startDate', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
                      { name: 'endDate', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
                    ]
                  : []),
              ],
              responses: { '200': json({ type: 'object' }, 'UCW data as the UCW returns it'), '400': problem('Invalid query'), ...userErrors, ...ucwErrors },
            },
          },
        ]),
      ),
      '/connect/{sessionId}': {
        head: {
          summary: 'Checks a host page link without spending a load or a UCW token (link previews)',
          parameters: [idParam('sessionId', 'Session id'), ...capability],
          responses: { '200': { description: 'Valid' }, '403': { description: 'Invalid link' }, '404': { description: 'Unknown session' }, '410': { description: 'Expired or finished' }, '429': { description: 'Too many loads' } },
        },
        get: {
          summary: 'The host page embedding the widget (capability in the query)',
          parameters: [idParam('sessionId', 'Session id'), ...capability],
          responses: { '200': html('The page'), '403': html('Invalid link'), '404': html('Unknown session'), '410': html('Expired or finished'), '429': html('Too many loads'), '502': html('UCW error, with retry'), '503': html('UCW unreachable, with retry'), '504': html('UCW slow, with retry') },
        },
      },
      '/connect/{sessionId}/widget-url': {
        post: {
          summary: 'A fresh widget URL for the host page’s popup presentation',
          parameters: [idParam('sessionId', 'Session id'), ...capability],
          responses: { '200': json(z.strictObject({ url: z.url() }), 'The widget URL'), '403': problem('Invalid capability, or a foreign Origin'), '404': problem('Unknown session'), '410': problem('Expired or finished'), '429': problem('Too many loads'), ...ucwErrors },
        },
      },
      '/connect/{sessionId}/events': {
        post: {
          summary: 'Relay one widget event (host page capability, or the user for embed "direct")',
          security: [{}, ...userSecurity],
          parameters: [idParam('sessionId', 'Session id'), { ...capability[0], required: false }, { ...capability[1], required: false }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(widgetEventSchema, 'input') } } },
          responses: { '200': json(relayAnswerSchema, 'Recorded (or a duplicate); what to forward to the frontend'), '400': problem('Invalid event'), '403': problem('Invalid capability'), '409': problem('Connection owned by another user'), '410': problem('Session expired'), '413': problem('Body too large, or JSON deeper than 32 levels or with more than 1,000 entries'), ...userErrors },
        },
      },
      '/connect/{sessionId}/cancel': {
        post: {
          summary: 'The person cancelled (host page Cancel, or connect.js closed): the session ends `cancelled` (host page capability, or the user for embed "direct")',
          security: [{}, ...userSecurity],
          parameters: [idParam('sessionId', 'Session id'), { ...capability[0], required: false }, { ...capability[1], required: false }],
          responses: { '200': json(cancelAnswerSchema, 'The session as it now stands (an ended session is unchanged) and the `connect/cancelled` copy for the frontend'), '403': problem('Invalid capability'), '410': problem('Link expired'), ...userErrors },
        },
      },
      '/events': {
        post: {
          summary: 'Signed webhook-style event ingestion (Standard Webhooks)',
          security: [{ standardWebhooks: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(inboundWebhookBody, 'input') } } },
          responses: { '200': json(webhookAnswerSchema, 'Applied, or a redelivery'), '400': problem('Invalid body, or a webhook-id over 256 printable ASCII characters'), '401': problem('Bad signature'), '409': problem('Connection owned by another user'), '413': problem('Body too large, or JSON deeper than 32 levels or with more than 1,000 entries'), '415': problem('Not JSON'), '503': problem('overloaded: retry after Retry-After') },
        },
      },
      '/connect.js': { get: { summary: 'The drop-in browser script', responses: { '200': { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } } } } },
      '/connect.d.ts': { get: { summary: 'Type declarations of connect.js', responses: { '200': { description: 'TypeScript', content: { 'application/typescript': { schema: { type: 'string' } } } } } } },
      '/': { get: { summary: 'Sandbox demo page (development only)', responses: { '200': html('The demo'), '404': problem('Not in sandbox mode') } } },
      '/demo': { get: { summary: 'Sandbox demo page (development only)', responses: { '200': html('The demo'), '404': problem('Not in sandbox mode') } } },
      '/dev/login': {
        post: {
          summary: 'Development sign-in as any user id (never in production)',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { userId: { type: 'string' } }, required: ['userId'], additionalProperties: false } } } },
          responses: { '200': json(devLoginAnswerSchema, 'Signed in; the auth cookie is set'), '400': problem('Invalid user id'), '404': problem('Dev login disabled'), '413': problem('Body too large, or JSON too deep or wide') },
        },
      },
      '/dev/logout': { post: { summary: 'Development sign-out', responses: { '204': { description: 'Cookie cleared' }, '404': problem('Dev login disabled') } } },
      '/me': { get: { summary: 'Who the request is authenticated as', security: userSecurity, responses: { '200': json(z.strictObject({ userId: z.string() }), 'The user'), '401': userErrors['401'], '429': userErrors['429'] } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': json(healthSchema, 'Alive') } } },
      '/readyz': { get: { summary: 'Readiness: the database (critical) and the UCW (shown)', responses: { '200': json(readinessSchema, 'Ready'), '503': json(readinessSchema, 'Not ready') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [{}, { metricsToken: [] }], responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': problem('METRICS_TOKEN required') } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
}
