import { describe, expect, it } from 'vitest';
import { crossSiteWarning, isSameSite, resolvePresentation } from '../../src/web/same-site.js';

describe('isSameSite', () => {
  it.each([
    ['https://bff.platform.example', 'https://ucw.platform.example', true],
    ['https://platform.example', 'https://ucw.platform.example:8443', true],
    ['https://a.b.platform.example/x', 'https://platform.example', true],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3001', true],
    ['http://localhost:3000', 'http://localhost:3001', true],
    ['http://[::1]:3000', 'http://[::1]:4000', true],
    ['https://bff.platform.example', 'https://ucw.other.example', false],
    ['http://localhost:3000', 'http://127.0.0.1:3001', false],
    ['http://127.0.0.1:3000', 'http://127.0.0.2:3000', false],
    ['http://10.0.0.1', 'http://10.0.0.1.nip.io', false],
    ['https://bff.platform.example', 'http://ucw.platform.example', false],
    ['https://bff.platform.co.uk', 'https://ucw.other.co.uk', false],
    ['https://bff.platform.co.uk', 'https://ucw.platform.co.uk', true],
    ['https://Bff.Platform.Example.', 'https://ucw.platform.example', true],
    ['not a url', 'https://ucw.platform.example', false],
    // The Public Suffix List's ICANN section: one registrable label below co.uk, com.au…
    ['https://bff.platform.com.au', 'https://ucw.platform.com.au', true],
    ['https://bff.platform.com.au', 'https://ucw.other.com.au', false],
    ['https://platform.co.uk', 'https://ucw.platform.co.uk:8443', true],
    ['https://co.uk', 'https://platform.co.uk', false],
    // …and deeper ones a two-label guess gets wrong (pvt.k12.ma.us, kawasaki.jp's wildcard).
    ['https://a.school.pvt.k12.ma.us', 'https://b.school.pvt.k12.ma.us', true],
    ['https://a.pvt.k12.ma.us', 'https://b.pvt.k12.ma.us', false],
    ['https://bff.city.kawasaki.jp', 'https://ucw.city.kawasaki.jp', true],
    ['https://bff.town.kawasaki.jp', 'https://ucw.other.kawasaki.jp', false],
    // The private section counts too, as in browsers: tenants of a shared host are cross-site.
    ['https://bff.github.io', 'https://ucw.github.io', false],
    ['https://app.platform.github.io', 'https://ucw.platform.github.io', true],
    ['https://github.io', 'https://ucw.github.io', false],
    ['https://bff-a.herokuapp.com', 'https://ucw-a.herokuapp.com', false],
    ['https://bff.herokuapp.com', 'https://bff.herokuapp.com:8443', true],
    // A host without a registrable domain is same-site only with itself, on any port, same scheme.
    ['https://github.io', 'https://github.io:444', true],
    ['http://localhost', 'https://localhost', false],
    ['http://127.0.0.1:3000', 'https://127.0.0.1:3000', false],
    ['http://[::1]:3000', 'http://[::2]:3000', false],
    ['http://[::1]:3000', 'http://localhost:3000', false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(isSameSite(a, b)).toBe(expected);
    expect(isSameSite(b, a)).toBe(expected);
  });
});

const config = (publicUrl: string, url: string | undefined, mode: 'none' | 'static') => ({
  publicUrl,
  ucw: { url, auth: mode === 'none' ? ({ mode: 'none' } as const) : ({ mode: 'static', bearerToken: 't' } as const) },
});

describe('resolvePresentation', () => {
  it('keeps an explicit choice', () => {
    expect(resolvePresentation('popup', config('https://bff.a.example', 'https://ucw.a.example', 'static'))).toBe('popup');
    expect(resolvePresentation('iframe', config('https://bff.a.example', 'https://ucw.b.example', 'static'))).toBe('iframe');
  });
  it('auto: iframe when same-site or UCW auth is off, popup otherwise', () => {
    expect(resolvePresentation('auto', config('https://bff.a.example', 'https://ucw.a.example', 'static'))).toBe('iframe');
    expect(resolvePresentation('auto', config('https://bff.a.example', 'https://ucw.b.example', 'none'))).toBe('iframe');
    expect(resolvePresentation('auto', config('https://bff.a.example', 'https://ucw.b.example', 'static'))).toBe('popup');
  });
  it('auto: popup when the frontend that frames the page is cross-site to the UCW', () => {
    const sameSite = config('https://bff.a.example', 'https://ucw.a.example', 'static');
    expect(resolvePresentation('auto', sameSite, 'https://app.a.example')).toBe('iframe');
    expect(resolvePresentation('auto', sameSite, 'https://app.other.example')).toBe('popup');
    expect(resolvePresentation('auto', sameSite, null)).toBe('iframe');
    expect(resolvePresentation('auto', config('https://bff.a.example', 'https://ucw.b.example', 'none'), 'https://app.other.example')).toBe('iframe');
  });
});

describe('crossSiteWarning', () => {
  it('when UCW auth is on and the UCW is cross-site, then it names both origins and the consequence', () => {
    const warning = crossSiteWarning(config('https://bff.a.example/base', 'https://ucw.b.example/api', 'static'));
    expect(warning).toContain('UCW_URL (https://ucw.b.example)');
    expect(warning).toContain('PUBLIC_URL (https://bff.a.example)');
    expect(warning).toContain('popup');
  });
  it('when same-site, auth off, or no UCW URL yet, then nothing', () => {
    expect(crossSiteWarning(config('https://bff.a.example', 'https://ucw.a.example', 'static'))).toBeUndefined();
    expect(crossSiteWarning(config('https://bff.a.example', 'https://ucw.b.example', 'none'))).toBeUndefined();
    expect(crossSiteWarning(config('https://bff.a.example', undefined, 'static'))).toBeUndefined();
  });
});
