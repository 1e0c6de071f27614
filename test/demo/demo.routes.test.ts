import vm from 'node:vm';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_JS as DEMO_PAGE_SCRIPT } from '../../src/generated/browser-bundles.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

// The real app (createApp, its global helmet policy included): the demo is on with the dev login.
const apps = new Map<boolean, Promise<TestApp>>();
afterAll(async () => {
  await Promise.all([...apps.values()].map(async (app) => (await app).close()));
});
async function appWithDemo(enabled: boolean) {
  if (!apps.has(enabled)) apps.set(enabled, buildTestApp({ env: { PUBLIC_URL: 'http://localhost:3000', DEV_LOGIN: String(enabled) } }));
  return (await apps.get(enabled)!).app;
}

const nonceOf = (csp: string) => /script-src 'nonce-([^']+)'/.exec(csp)?.[1];

describe('demo page', () => {
  it.each(['/', '/demo'])('when enabled and %s is requested, then it answers the page with a strict per-response nonce CSP', async (path) => {
    const res = await request(await appWithDemo(true)).get(path);

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
    const csp = res.headers['content-security-policy']!;
    const nonce = nonceOf(csp)!;
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(csp).toBe(
      [
        "default-src 'none'",
        `script-src 'nonce-${nonce}' 'self'`,
        `style-src 'nonce-${nonce}'`,
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ].join('; '),
    );
    // Every script and style element carries the nonce; nothing inline runs otherwise.
    const tags = res.text.match(/<(script|style)\b[^>]*>/g)!;
    expect(tags.length).toBe(3);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(res.text).toContain('src="connect.js"');
    expect(res.text).toMatch(/sandbox/i);
  });

  it('when loaded twice, then each response has its own nonce', async () => {
    const app = await appWithDemo(true);
    const [a, b] = await Promise.all([request(app).get('/'), request(app).get('/')]);
    expect(nonceOf(a.headers['content-security-policy']!)).not.toBe(nonceOf(b.headers['content-security-policy']!));
  });

  it('when inspected, then the page has no inline event handlers or javascript: URLs and the script parses', async () => {
    const res = await request(await appWithDemo(true)).get('/');

    expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
    expect(res.text).not.toMatch(/javascript:/i);
    expect(DEMO_PAGE_SCRIPT).not.toMatch(/<\/script|<!--/i);
    expect(DEMO_PAGE_SCRIPT).not.toMatch(/\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b/);
    expect(() => new vm.Script(DEMO_PAGE_SCRIPT)).not.toThrow();
  });

  it.each(['/', '/demo'])('when disabled, then %s falls through to the app\'s 404', async (path) => {
    const res = await request(await appWithDemo(false)).get(path);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
