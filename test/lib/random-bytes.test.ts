import { describe, expect, it } from 'vitest';
import { randomBytesFromPool } from '../../src/lib/random-bytes.js';

describe('randomBytesFromPool', () => {
  it('when bytes are drawn across many pool refills, then no two draws repeat and each has its size', () => {
    const seen = new Set<string>();
    // 16-byte draws over ten 4 KiB refills, with odd sizes in between so draws straddle the refill point.
    for (let i = 0; i < 2_600; i += 1) {
      const size = i % 7 === 0 ? 13 : 16;
      const bytes = randomBytesFromPool(size);
      expect(bytes.length).toBe(size);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2_600);
  });

  it('when the pool is refilled after a draw, then the bytes already handed out stay as they were (copies, not views)', () => {
    const first = randomBytesFromPool(16);
    const before = first.toString('hex');
    for (let i = 0; i < 600; i += 1) randomBytesFromPool(16); // more than one 4 KiB refill
    expect(first.toString('hex')).toBe(before);
  });

  it('when more than the pool is asked for, then it refuses instead of repeating bytes', () => {
    expect(() => randomBytesFromPool(4097)).toThrow(RangeError);
  });
});
