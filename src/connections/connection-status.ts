import type { ConnectionRow } from '../db/schema.js';

/** UCW connection status codes, in the UCW's enum order (SPEC §7). */
export const UCW_STATUS = [
  'CREATED', 'PREVENTED', 'DENIED', 'CHALLENGED', 'REJECTED', 'LOCKED', 'CONNECTED', 'IMPEDED', 'RECONNECTED', 'DEGRADED',
  'DISCONNECTED', 'DISCONTINUE', 'CLOSED', 'DELAYED', 'FAILED', 'UPDATED', 'DISABLED', 'IMPORTED', 'RESUMED', 'EXPIRED',
  'IMPAIRED', 'PENDING',
] as const;

export const CONNECTED_CODE = UCW_STATUS.indexOf('CONNECTED');

type DerivedStatus = Exclude<ConnectionRow['status'], 'deleted'>;

const byCode: Record<(typeof UCW_STATUS)[number], DerivedStatus> = {
  CREATED: 'pending',
  DELAYED: 'pending',
  PENDING: 'pending',
  CONNECTED: 'connected',
  RECONNECTED: 'connected',
  UPDATED: 'connected',
  IMPORTED: 'connected',
  RESUMED: 'connected',
  // The user can fix these by acting in the widget again (credentials, MFA, unlocking).
  PREVENTED: 'needs_attention',
  DENIED: 'needs_attention',
  CHALLENGED: 'needs_attention',
  REJECTED: 'needs_attention',
  LOCKED: 'needs_attention',
  IMPEDED: 'needs_attention',
  DEGRADED: 'needs_attention',
  EXPIRED: 'needs_attention',
  IMPAIRED: 'needs_attention',
  FAILED: 'error',
  DISCONNECTED: 'disconnected',
  DISCONTINUE: 'disconnected',
  CLOSED: 'disconnected',
  DISABLED: 'disconnected',
};

/** The BFF's status for a UCW status code; unknown codes say nothing (undefined). */
export function statusFromCode(code: number | undefined): DerivedStatus | undefined {
  if (code === undefined) return undefined;
  const name = UCW_STATUS[code];
  return name ? byCode[name] : undefined;
}
