import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { errorStatus } from '../src/http/errors.js';
import { openApiDocument } from '../src/openapi/openapi.js';

type Operation = {
  operationId?: string;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { name?: string }>; schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
};

// A deployment's own URL: Redocly rightly flags example.com and localhost as servers.
const doc = openApiDocument('https://bff.platform.test', { cookieName: 'platform_session' }) as unknown as Document;
const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));

describe('the OpenAPI document', () => {
  it('when linted with Redocly’s recommended rules, then nothing is reported but the one documented exception', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const reported = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}`);
    // /healthz has no 4XX on purpose: a liveness probe must never be refused (it is exempt from
    // the per-IP limit, which a proxy without TRUST_PROXY would otherwise spend for everyone).
    expect(reported).toEqual(['warn operation-4xx-response #/paths/~1healthz/get/responses']);
  });

  it('when a client generator reads it, then every operation has a unique operationId and examples', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = operations.flatMap(({ id, op }) => [
      ...Object.entries(op.requestBody?.content ?? {}).filter(([, media]) => media.example === undefined).map(() => `${id} request`),
      ...Object.entries(op.responses).flatMap(([status, response]) =>
        Object.entries(response.content ?? {}).filter(([, media]) => media.example === undefined).map(([type]) => `${id} ${status} ${type}`),
      ),
    ]);
    expect(missing).toEqual([]);
  });

  it('when an operation can fail, then 500 is documented everywhere and 413/415 wherever a JSON body is read', () => {
    expect(operations.filter(({ op }) => !op.responses['500']).map(({ id }) => id)).toEqual([]);
    const jsonBodies = operations.filter(({ op }) => op.requestBody?.content['application/json']);
    expect(jsonBodies.length).toBeGreaterThanOrEqual(4);
    expect(jsonBodies.filter(({ op }) => !op.responses['413'] || !op.responses['415']).map(({ id }) => id)).toEqual([]);
  });

  it('when problems are described, then their code is the closed set of the service', () => {
    expect(doc.components.schemas['Problem']!.properties!['code']!.enum!.sort()).toEqual(Object.keys(errorStatus).sort());
  });

  it('when the auth cookie is described, then it carries the configured cookie name', () => {
    expect(doc.components.securitySchemes['cookieAuth']!.name).toBe('platform_session');
  });

  it('when schemas come from zod, then none of zod’s internals leak (±2^53 bounds, date regexes) and Connection is referenced, not repeated', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect([...text.matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!).filter((pattern) => pattern.length > 80)).toEqual([]);
    expect(text.match(/"lastConnectedAt":\{/g)).toHaveLength(1);
    expect(text).toContain('"$ref":"#/components/schemas/Connection"');
  });
});
