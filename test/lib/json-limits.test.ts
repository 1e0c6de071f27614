import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonLimitViolation, REQUEST_JSON_LIMITS } from '../../src/lib/json-limits.js';

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

/** The recursive definition canonicalJson must keep matching (stored dedupe keys depend on it). */
function recursiveCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(recursiveCanonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${recursiveCanonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

describe('jsonLimitViolation', () => {
  const limits = { maxDepth: 3, maxEntries: 5 };

  it.each([
    ['a scalar', 'x', undefined],
    ['null', null, undefined],
    ['an empty object', {}, undefined],
    ['depth 3', { a: [{ b: 1 }] }, undefined],
    ['depth 4', { a: [{ b: [] }] }, 'The JSON body nests deeper than 3 levels.'],
    ['depth 4 in a later sibling', [1, 2, [[[]]]], 'The JSON body nests deeper than 3 levels.'],
    ['5 entries', { a: 1, b: [1, 2], c: {} }, undefined],
    ['6 entries', { a: 1, b: [1, 2], c: { d: 1 } }, 'The JSON body has more than 5 members and array elements.'],
    ['a wide array', new Array(6).fill(0), 'The JSON body has more than 5 members and array elements.'],
  ])('when the value is %s, then the violation is as expected', (_name, value, expected) => {
    expect(jsonLimitViolation(value, limits)).toBe(expected);
  });

  it('when the value nests 100,000 levels, then the violation is reported without overflowing the stack', () => {
    expect(jsonLimitViolation(nested(100_000), REQUEST_JSON_LIMITS)).toBe('The JSON body nests deeper than 32 levels.');
  });

  it('when the request limits are read, then they are depth 32 and 1,000 entries', () => {
    expect(REQUEST_JSON_LIMITS).toEqual({ maxDepth: 32, maxEntries: 1_000 });
    expect(jsonLimitViolation(nested(32), REQUEST_JSON_LIMITS)).toBeUndefined();
    expect(jsonLimitViolation(nested(33), REQUEST_JSON_LIMITS)).toBeDefined();
  });
});

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [[undefined, { u: undefined }], '[null,{"u":null}]'],
    [{ 'é': 1, Z: 2, a: 3 }, '{"Z":2,"a":3,"é":1}'],
    ['plain', '"plain"'],
    [undefined, 'null'],
    [{}, '{}'],
    [[], '[]'],
  ])('when given %j, then %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('when key order differs, then the output is the same', () => {
    expect(canonicalJson({ x: { b: 2, a: 1 }, y: [{ d: 1, c: 2 }] })).toBe(canonicalJson({ y: [{ c: 2, d: 1 }], x: { a: 1, b: 2 } }));
  });

  it('when given varied documents, then it matches the recursive definition exactly', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const build = (depth: number): unknown => {
      const pick = random();
      if (depth > 4 || pick < 0.3) return [1.5, 'sü"\n', true, null, -0][Math.floor(random() * 5)];
      if (pick < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => build(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${Math.floor(random() * 9)}${i}`, build(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const doc = build(0);
      expect(canonicalJson(doc)).toBe(recursiveCanonical(doc));
    }
  });

  it('when the value nests 100,000 levels, then it serialises without overflowing the stack', () => {
    const text = canonicalJson(nested(100_000));
    expect(text.length).toBeGreaterThan(300_000);
    expect(text.startsWith('[{"a":[{"a":')).toBe(true);
  });
});
