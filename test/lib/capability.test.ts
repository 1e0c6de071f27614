import { describe, expect, it } from 'vitest';
import { checkCapability, readCapability, signCapability, type CapabilityVerdict } from '../../src/lib/capability.js';

const OLD = 'old-session-secret-0123456789abcdefghij';
const NEW = 'new-session-secret-0123456789abcdefghij';
const now = new Date('2026-11-26T06:00:00.000Z');
const later = new Date(now.getTime() + 30 * 60_000);

const codeOf = (verdict: CapabilityVerdict) => (verdict === 'valid' ? 'ok' : verdict);

describe('host page capability', () => {
  const cap = signCapability([NEW, OLD], 'cs_1', 'user-1', later);

  it('when the signature is intact and unexpired, then it verifies', () => {
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', cap, now))).toBe('ok');
  });

  it('when any part is altered, then it is invalid (403), whatever was changed', () => {
    expect(codeOf(checkCapability([NEW], 'cs_2', 'user-1', cap, now))).toBe('capability_invalid');
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-2', cap, now))).toBe('capability_invalid');
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', { ...cap, exp: cap.exp + 3600 }, now))).toBe('capability_invalid');
    const flipped = cap.sig.slice(0, -1) + (cap.sig.endsWith('A') ? 'B' : 'A');
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', { ...cap, sig: flipped }, now))).toBe('capability_invalid');
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', undefined, now))).toBe('capability_invalid');
  });

  it('when the expiry has passed, then it is expired (410)', () => {
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', cap, new Date(later.getTime() + 1000)))).toBe('capability_expired');
  });

  it('when signed by a secret that is not configured, then it is invalid', () => {
    expect(codeOf(checkCapability(['some-other-secret-0123456789abcdefghij'], 'cs_1', 'user-1', cap, now))).toBe('capability_invalid');
  });

  it('when secrets rotate, then links signed by the previous secret still verify', () => {
    const oldLink = signCapability([OLD], 'cs_1', 'user-1', later);
    expect(codeOf(checkCapability([NEW, OLD], 'cs_1', 'user-1', oldLink, now))).toBe('ok');
    expect(codeOf(checkCapability([NEW], 'cs_1', 'user-1', oldLink, now))).toBe('capability_invalid');
  });

  it('when the query is malformed, then no capability is read', () => {
    expect(readCapability({ exp: '12', sig: cap.sig })).toEqual({ exp: 12, sig: cap.sig });
    expect(readCapability({ exp: ['1', '2'], sig: cap.sig })).toBeUndefined();
    expect(readCapability({ exp: '1e9', sig: cap.sig })).toBeUndefined();
    expect(readCapability({ exp: '12', sig: 'short' })).toBeUndefined();
  });
});
