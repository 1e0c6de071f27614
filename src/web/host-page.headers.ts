import type { Response } from 'express';

export interface PagePolicy {
  /** Fresh for every response: the only thing that lets the page's own script and style run. */
  nonce: string;
  /** The UCW origin the page may frame; undefined frames nothing. */
  frameSrc: string | undefined;
  /** Origins that may frame this page (ALLOWED_ORIGINS); empty means none. */
  frameAncestors: readonly string[];
}

export function contentSecurityPolicy(policy: PagePolicy): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${policy.nonce}'`,
    `style-src 'nonce-${policy.nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${policy.frameSrc ?? "'none'"}`,
    `frame-ancestors ${policy.frameAncestors.length > 0 ? [...new Set(policy.frameAncestors)].join(' ') : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * Replaces the API policy helmet put on every response with the page's own. Framing is decided
 * by `frame-ancestors` alone, so helmet's `X-Frame-Options: SAMEORIGIN` (which would refuse the
 * frontend's iframe in browsers that prefer it) goes. No Cross-Origin-Opener-Policy is set:
 * `same-origin` would cut the popup's `window.opener`, and the frontend's opener link too.
 */
export function setPageHeaders(res: Response, policy: PagePolicy): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
  res.removeHeader('X-Frame-Options');
  res.removeHeader('Cross-Origin-Opener-Policy');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}
