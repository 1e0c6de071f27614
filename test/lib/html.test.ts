import { describe, expect, it } from 'vitest';
import { html, htmlPage, jsonDataBlock, pageWithNonce, trusted } from '../../src/lib/html.js';

describe('html templates', () => {
  it('when a value is interpolated, then it is escaped unless it is already markup', () => {
    const name = `<img src=x onerror="alert('1')">&`;
    const out = html`<p title="${name}">${name} ${html`<b>${name}</b>`} ${trusted('<i>ok</i>')}</p>`.value;
    expect(out).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;">' +
        '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp; <b>&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;</b> <i>ok</i></p>',
    );
  });

  it('when a value is a list, a number or nothing, then lists join, numbers print and nothing prints nothing', () => {
    expect(html`${[html`<li>a</li>`, '<b>']}|${3}|${false}|${null}|${undefined}`.value).toBe('<li>a</li>&lt;b&gt;|3|||');
  });

  it('when a data block carries hostile strings, then it cannot end its script element and reads back unchanged', () => {
    const value = { s: '</script><!-- & \u2028' };
    const block = jsonDataBlock('data', value).value;
    expect(block.match(/<\/script>/g)).toHaveLength(1);
    expect(JSON.parse(/>([^<]*)<\/script>$/.exec(block)![1]!)).toEqual(value);
  });

  it('when a page is rendered once for its nonce, then each response gets its own nonce everywhere and nothing else changes', () => {
    const render = (nonce: string) => htmlPage({ nonce, title: 'T & t', style: trusted('p{}'), body: html`<script nonce="${nonce}">1</script>` });
    const page = pageWithNonce(render);
    expect(page('abc')).toBe(render('abc'));
    expect(page('n"1')).toBe(render('n"1'));
    expect(page('xyz').match(/nonce="xyz"/g)).toHaveLength(2);
    expect(page('xyz')).toContain('<title>T &amp; t</title>');
  });
});
