import vm from 'node:vm';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { CONNECT_JS } from '../../src/generated/browser-bundles.js';
import { renderConnectJs } from '../../src/sdk/connect-js.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const PUBLIC_URL = 'https://bff.example.test';

// The real app (createApp, its global helmet policy included), one per public URL, so the SDK
// router's header overrides are tested as served.
const apps = new Map<string, Promise<TestApp>>();
afterAll(async () => {
  await Promise.all([...apps.values()].map(async (app) => (await app).close()));
});
async function appWithSdk(publicUrl = PUBLIC_URL) {
  if (!apps.has(publicUrl)) apps.set(publicUrl, buildTestApp({ env: { PUBLIC_URL: publicUrl } }));
  return (await apps.get(publicUrl)!).app;
}

describe('GET /connect.js', () => {
  it('when requested, then it answers JavaScript that other origins may load and cache briefly', async () => {
    const res = await request(await appWithSdk()).get('/connect.js').set('Origin', 'https://app.platform.test');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['etag']).toMatch(/^"[\w-]+"$/);
    expect(res.text).toContain('UcwConnect');
  });

  it('when the ETag matches, then it answers 304 without a body', async () => {
    const app = await appWithSdk();
    const first = await request(app).get('/connect.js');
    const again = await request(app).get('/connect.js').set('If-None-Match', first.headers['etag']!);

    expect(again.status).toBe(304);
    expect(again.text).toBeFalsy();
  });

  it('when parsed, then it is a valid script with the public URL as the default bffUrl and no placeholder left', async () => {
    const res = await request(await appWithSdk('https://bff.example.test/prefix/')).get('/connect.js');

    expect(() => new vm.Script(res.text, { filename: 'connect.js' })).not.toThrow();
    expect(res.text).not.toContain('__UCW_CONNECT_DEFAULT_BFF_URL__');
    expect(res.text).toContain('var DEFAULT_BFF_URL = "https://bff.example.test/prefix";');
  });

  it('when a public URL carries script-breaking characters, then they stay inside the string literal', () => {
    const source = renderConnectJs('https://bff.test/</script><script>alert(1)</script>\u2028');

    expect(source).not.toContain('</script>');
    expect(() => new vm.Script(source)).not.toThrow();
  });

  it('when evaluated in a window-like context, then it defines UcwConnect.create and validates options', () => {
    const listeners: string[] = [];
    const window = {
      location: { href: 'https://app.platform.test/page', origin: 'https://app.platform.test' },
      addEventListener: (type: string) => listeners.push(type),
      removeEventListener: () => undefined,
    } as Record<string, unknown>;
    vm.runInNewContext(renderConnectJs(PUBLIC_URL), { window, URL, setTimeout, setInterval, clearInterval, Promise });
    const UcwConnect = window['UcwConnect'] as {
      version: string;
      create(options: unknown): { open(): void; destroy(): void };
    };

    expect(UcwConnect.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(() => UcwConnect.create({})).toThrow(/jobTypes/);
    expect(() => UcwConnect.create({ jobTypes: [] })).toThrow(/jobTypes/);
    expect(() => UcwConnect.create({ jobTypes: ['transactions'], presentation: 'iframe' })).toThrow(/presentation/);
    expect(() => UcwConnect.create({ jobTypes: ['transactions'], onSuccess: 'nope' })).toThrow(/onSuccess/);
    expect(() => UcwConnect.create({ jobTypes: ['transactions'], bffUrl: 'javascript:alert(1)' })).toThrow(/bffUrl/);
    const handler = UcwConnect.create({ jobTypes: ['transactions'] });
    expect(listeners).toEqual(['message']);
    handler.destroy();
    expect(() => handler.open()).toThrow(/destroy/);
  });

  it('when inspected, then it contains no secrets, no syntax beyond ES2018 and nothing that needs a build step', () => {
    const source = renderConnectJs(PUBLIC_URL);
    expect(source).toContain(CONNECT_JS);

    expect(source).not.toMatch(/secret|password|whsec_|Bearer [A-Za-z0-9]/i);
    expect(source).not.toMatch(/\?\.|\?\?/);
    expect(source).not.toMatch(/\b(import|export|require)\b\s*[({'"]/);
    expect(source).not.toMatch(/\b(innerHTML|outerHTML|insertAdjacentHTML|eval)\b/);
  });
});

describe('GET /connect.d.ts', () => {
  it('when requested, then it answers TypeScript declarations with the same public caching headers', async () => {
    const res = await request(await appWithSdk()).get('/connect.d.ts');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/typescript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.text).toContain('declare namespace UcwConnect');
  });

  // That a frontend type-checks against it is checked by `npm run typecheck`: test/sdk/connect-dts.typecheck.ts.
});

describe('other paths', () => {
  it('when something else is requested, then the router lets it fall through', async () => {
    const res = await request(await appWithSdk()).get('/connect.ts');
    expect(res.status).toBe(404);
  });
});
