import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_LENGTH, decodeHtmlEntities, ucwErrorMessage } from '../../src/ucw/ucw-message.js';

describe('decodeHtmlEntities', () => {
  it('when the UCW encodes Joi quotes in any of the usual forms, then they come back as quotes', () => {
    expect(decodeHtmlEntities('&#x22;jobTypes&#x22; is required')).toBe('"jobTypes" is required');
    expect(decodeHtmlEntities('&#34;a&#34; &quot;b&quot; &#39;c&#x27; &apos;d&apos;')).toBe(`"a" "b" 'c' 'd'`);
    expect(decodeHtmlEntities('&lt;x&gt; &amp; y')).toBe('<x> & y');
  });

  it('when numeric references name any code point, then they decode (hex and decimal, upper-case X too)', () => {
    expect(decodeHtmlEntities('&#xE9;t&#233; &#X1F600;')).toBe('été 😀');
  });

  it('when an ampersand is itself encoded, then decoding is single-pass (&amp;lt; stays &lt;)', () => {
    expect(decodeHtmlEntities('&amp;lt;script&amp;gt;')).toBe('&lt;script&gt;');
  });

  it('when a reference is unknown or not a character, then it is left as written', () => {
    expect(decodeHtmlEntities('&bogus; &#0; &#xD800; &#x110000; & alone')).toBe('&bogus; &#0; &#xD800; &#x110000; & alone');
  });
});

describe('ucwErrorMessage', () => {
  it('when the body is a short HTML page, then tags are stripped and whitespace collapsed', () => {
    expect(ucwErrorMessage('<html><body><p>&#x22;foo&#x22; is\n  not allowed</p></body></html>', 'text/html')).toBe(
      '"foo" is not allowed',
    );
  });

  it('when the body is JSON with a message, then the message is used', () => {
    expect(ucwErrorMessage('{"message":"Failed to delete connection"}', 'application/json')).toBe('Failed to delete connection');
    expect(ucwErrorMessage('{"error":"invalid_request"}', '')).toBe('invalid_request');
  });

  it('when the body is huge or carries control characters, then it is capped to one safe line', () => {
    const message = ucwErrorMessage(`bad\u001b[31m\r\nline ${'x'.repeat(5_000)}`, 'text/plain');
    expect(message.length).toBe(MAX_MESSAGE_LENGTH);
    expect(message.startsWith('bad [31m line xxx')).toBe(true);
    expect(message.endsWith('…')).toBe(true);
  });

  it('when encoded markup is in the text, then it is shown as text, not stripped as a tag', () => {
    expect(ucwErrorMessage('&lt;b&gt; is not allowed', 'text/html')).toBe('<b> is not allowed');
  });
});
