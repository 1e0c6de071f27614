import { createHmac } from 'node:crypto';

/**
 * The user id the UCW (and through it, the aggregators) sees. `plain` sends the platform user
 * id; `hmac` sends a stable pseudonym, so platform ids never leave the platform. Stable matters:
 * the data endpoints must be called with the same id the connection was made with.
 */
export function createUcwUserId(mode: 'plain' | 'hmac', secret: string | undefined): (platformUserId: string) => string {
  if (mode === 'plain') return (id) => id;
  if (!secret) throw new Error('UCW_USER_ID_SECRET is required for UCW_USER_ID_MODE=hmac');
  return (id) => `u_${createHmac('sha256', secret).update(id).digest('base64url').slice(0, 32)}`;
}
