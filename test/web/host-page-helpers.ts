import request from 'supertest';
import type { Express } from 'express';
import { expect } from 'vitest';
import type { HostPageData } from '../../src/web/host-page.html.js';
import { FRONTEND_ORIGIN } from '../helpers/test-app.js';
import { userToken } from '../helpers/jwt.js';

export interface CreatedSession {
  sessionId: string;
  url: string;
  /** Path and query of the host page URL, for supertest. */
  path: string;
  /** `exp=…&sig=…` */
  query: string;
}

/** POST /connect-url as the frontend would (bearer + Origin), returning the host page link. */
export async function createSession(app: Express, userId: string, body: Record<string, unknown> = {}): Promise<CreatedSession> {
  const response = await request(app)
    .post('/connect-url')
    .set('Authorization', `Bearer ${await userToken(userId)}`)
    .set('Origin', FRONTEND_ORIGIN)
    .send({ jobTypes: ['transactions'], ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const url = new URL(response.body.url as string);
  return { sessionId: response.body.sessionId, url: response.body.url, path: `${url.pathname}${url.search}`, query: url.search.slice(1) };
}

/** The page's JSON data block, parsed as the page script parses it. */
export function pageData(html: string): HostPageData {
  const match = /<script type="application\/json" id="host-data">([^<]*)<\/script>/.exec(html);
  if (!match) throw new Error('no data block in the page');
  return JSON.parse(match[1]!) as HostPageData;
}

/** The CSP directives as a map: name → value. */
export function cspDirectives(header: string | undefined): Map<string, string> {
  return new Map(
    (header ?? '')
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name, ...values] = part.split(/\s+/);
        return [name!, values.join(' ')] as const;
      }),
  );
}

/** Headers every page response (success or error) must carry. */
export function expectPageHeaders(response: request.Response, ucwOrigin: string | undefined, frameAncestors = FRONTEND_ORIGIN): string {
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  const csp = cspDirectives(response.headers['content-security-policy']);
  const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(csp.get('script-src') ?? '')?.[1];
  expect(nonce, 'script-src carries a nonce').toBeDefined();
  expect(Object.fromEntries(csp)).toEqual({
    'default-src': "'none'",
    'script-src': `'nonce-${nonce}'`,
    'style-src': `'nonce-${nonce}'`,
    'img-src': "'self' data:",
    'connect-src': "'self'",
    'frame-src': ucwOrigin ?? "'none'",
    'frame-ancestors': frameAncestors,
    'base-uri': "'none'",
    'form-action': "'none'",
  });
  expect(response.headers['referrer-policy']).toBe('no-referrer');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['cross-origin-opener-policy']).toBeUndefined();
  expect(response.headers['x-frame-options']).toBeUndefined();
  // Every script and style element on the page is the nonce'd one (the JSON block is inert data).
  for (const tag of response.text.match(/<(script|style)\b[^>]*>/g) ?? []) {
    if (tag.includes('type="application/json"')) continue;
    expect(tag).toContain(`nonce="${nonce}"`);
  }
  return nonce!;
}

/** An error page a person reads: small HTML, the status, no JSON, no internals. */
export function expectErrorPage(response: request.Response, status: number, ucwOrigin: string | undefined): void {
  expect(response.status).toBe(status);
  expectPageHeaders(response, ucwOrigin);
  expect(response.text).toContain(`data-state="error" data-status="${status}"`);
  expect(response.text).not.toMatch(/"code"\s*:|problem\+json|\bat \S+ \(|Error:|node_modules/);
  expect(response.text.length).toBeLessThan(8_000);
}
