import { describe, expect, it } from 'vitest';
import { cookieValue } from '../../src/lib/cookies.js';

describe('cookieValue', () => {
  it.each([
    ['the only cookie', 'auth=abc', 'abc'],
    ['one among others, spaced loosely', 'a=1;  auth = abc ;b=2', 'abc'],
    ['the first of two with the name', 'auth=first; auth=second', 'first'],
    ['quoted', 'auth="abc"', 'abc'],
    ['percent-encoded', 'auth=a%20b%3Dc', 'a b=c'],
    ['badly percent-encoded (kept as sent)', 'auth=a%zz', 'a%zz'],
    ['a value holding =', 'auth=a=b', 'a=b'],
  ])('when the header holds %s, then its value is found', (_name, header, expected) => {
    expect(cookieValue(header, 'auth')).toBe(expected);
  });

  it.each([
    ['no header', undefined],
    ['other cookies only', 'authx=1; xauth=2'],
    ['a name without a value', 'auth'],
  ])('when there is %s, then there is no value', (_name, header) => {
    expect(cookieValue(header, 'auth')).toBeUndefined();
  });
});
