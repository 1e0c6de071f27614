import { describe, expect, it } from 'vitest';
import { hasControlCharacters, isPrintableAsciiToken } from '../../src/lib/identifiers.js';

describe('hasControlCharacters', () => {
  it.each(['a\nb', 'a\r', '\u0000', '\t', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', 'a\u2028', '\u2029'])('when the value holds %j, then true', (value) => {
    expect(hasControlCharacters(value)).toBe(true);
  });
  it.each(['', 'alice', 'Zoë Müller', 'a@b.c', '\u00a0', '\u{1f600}', '~!'])('when the value is %j, then false', (value) => {
    expect(hasControlCharacters(value)).toBe(false);
  });
});

describe('isPrintableAsciiToken', () => {
  it.each([
    ['msg_1', 5, true],
    ['!~', 2, true],
    ['abc', 2, false],
    ['', 5, false],
    ['a b', 5, false],
    ['é', 5, false],
    ['a\tb', 5, false],
    ['a\u007f', 5, false],
  ])('when %j with a maximum of %i, then %s', (value, max, expected) => {
    expect(isPrintableAsciiToken(value, max)).toBe(expected);
  });
});
