import { describe, expect, it } from 'vitest';
import { redirectUriProblem } from '../../src/lib/redirect-uri.js';

describe('redirectUriProblem', () => {
  it.each([
    ['https://app.example/done', false],
    ['https://app.example/done', true],
    ['myapp://connected', false],
    ['myapp://connected', true],
    ['com.example.app:/oauth/return', true],
    ['http://localhost:3000/done', false],
    ['http://127.0.0.1:8080/done', false],
    ['http://[::1]:8080/done', false],
    ['http://dev.localhost/done', false],
  ])('when the URI is %s (production %s), then it is allowed', (uri, production) => {
    expect(redirectUriProblem(uri, { production })).toBeUndefined();
  });

  it.each([
    ['javascript:alert(1)', false, 'the javascript: scheme is never allowed'],
    ['JavaScript:alert(1)', false, 'the javascript: scheme is never allowed'],
    ['data:text/html,<script>alert(1)</script>', false, 'the data: scheme is never allowed'],
    ['vbscript:msgbox(1)', false, 'the vbscript: scheme is never allowed'],
    ['file:///etc/passwd', false, 'the file: scheme is never allowed'],
    ['blob:https://app.example/uuid', false, 'the blob: scheme is never allowed'],
    ['about:blank', false, 'the about: scheme is never allowed'],
    ['http://app.example/done', false, 'http: is allowed only for loopback hosts (use https:)'],
    ['http://127.0.0.1.evil.test/done', false, 'http: is allowed only for loopback hosts (use https:)'],
    ['http://localhost:3000/done', true, 'http: is not allowed in production (use https:)'],
    ['https://user:pass@app.example/done', false, 'must not carry credentials'],
    ['/relative/path', false, 'is not an absolute URI'],
    ['not a uri', false, 'is not an absolute URI'],
  ])('when the URI is %s (production %s), then it is refused: %s', (uri, production, why) => {
    expect(redirectUriProblem(uri, { production })).toBe(why);
  });
});
