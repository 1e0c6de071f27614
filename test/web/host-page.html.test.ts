import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, pageHeaders } from '../../src/web/host-page.headers.js';
import { escapeHtml, jsonForScript } from '../../src/lib/html.js';
import { renderErrorPage, renderHostPage } from '../../src/web/host-page.html.js';

describe('escaping', () => {
  it('escapes HTML text and attribute metacharacters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('makes JSON inert inside a script element and reads back unchanged', () => {
    const value = { s: '</script><!-- & \u2028\u2029 >' };
    const encoded = jsonForScript(value);
    expect(encoded).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(encoded)).toEqual(value);
  });

  it('escapes error page text', () => {
    const html = renderErrorPage('n0nce', { status: 400, title: '<b>t</b>', message: '<img src=x onerror=1>', retry: false });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<script');
  });

  it('puts the data only in the JSON block', () => {
    const html = renderHostPage('n0nce', {
      sessionId: 'cs_x',
      presentation: 'popup',
      widgetUrl: null,
      widgetUrlEndpoint: 'cs_x/widget-url?exp=1&sig=s',
      eventsUrl: 'cs_x/events?exp=1&sig=s',
      cancelUrl: 'cs_x/cancel?exp=1&sig=s',
      expiresAt: '2026-11-30T10:00:00.000Z',
      targetOrigin: 'https://app.example',
      redirectUri: 'https://app.example/done?a=</script>',
    });
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).toContain('data-testid="open-widget"');
  });
});

describe('contentSecurityPolicy', () => {
  it("frames nothing and may be framed by nobody when given nothing", () => {
    expect(contentSecurityPolicy({ nonce: 'abc', frameSrc: undefined, frameAncestors: [] })).toBe(
      "default-src 'none'; script-src 'nonce-abc'; style-src 'nonce-abc'; img-src 'self' data:; connect-src 'self'; " +
        "frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  });
  it('lists every allowed origin as a frame ancestor', () => {
    expect(contentSecurityPolicy({ nonce: 'abc', frameSrc: 'https://ucw.example', frameAncestors: ['https://a.example', 'https://b.example'] })).toContain(
      'frame-src https://ucw.example; frame-ancestors https://a.example https://b.example;',
    );
  });
  it('names a repeated origin once', () => {
    expect(contentSecurityPolicy({ nonce: 'abc', frameSrc: undefined, frameAncestors: ['https://a.example', 'https://a.example'] })).toContain(
      "frame-ancestors https://a.example; base-uri 'none'",
    );
  });

  it('when the fixed part is computed once, then each response still gets the full policy with its own nonce', () => {
    const set = pageHeaders(['https://a.example']);
    const sent: Array<Record<string, string>> = [];
    const response = () => {
      const headers: Record<string, string> = { 'X-Frame-Options': 'SAMEORIGIN' };
      sent.push(headers);
      return { setHeader: (n: string, v: string) => void (headers[n] = v), removeHeader: (n: string) => void delete headers[n] } as never;
    };
    set(response(), 'n1', 'https://ucw.example');
    set(response(), 'n2', 'https://ucw.example');
    set(response(), 'n3', undefined);
    const policies = sent.map((h) => h['Content-Security-Policy']);
    expect(policies).toEqual([
      contentSecurityPolicy({ nonce: 'n1', frameSrc: 'https://ucw.example', frameAncestors: ['https://a.example'] }),
      contentSecurityPolicy({ nonce: 'n2', frameSrc: 'https://ucw.example', frameAncestors: ['https://a.example'] }),
      contentSecurityPolicy({ nonce: 'n3', frameSrc: undefined, frameAncestors: ['https://a.example'] }),
    ]);
    expect(sent[0]).toMatchObject({ 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    expect(sent[0]!['X-Frame-Options']).toBeUndefined();
  });
});
