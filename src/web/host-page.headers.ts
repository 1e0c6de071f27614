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
  return cspWithNonce(policy.nonce, cspTail(policy.frameSrc, policy.frameAncestors));
}

/** Everything in the policy after the nonce: fixed for a given UCW origin, so computed once. */
function cspTail(frameSrc: string | undefined, frameAncestors: readonly string[]): string {
  return [
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${frameSrc ?? "'none'"}`,
    `frame-ancestors ${frameAncestors.length > 0 ? [...new Set(frameAncestors)].join(' ') : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const cspWithNonce = (nonce: string, tail: string) => `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ${tail}`;

/**
 * The page's headers (below) for one set of framing origins, with the policy's fixed part computed once
 * per UCW origin rather than once per response.
 */
export function pageHeaders(frameAncestors: readonly string[]): (res: Response, nonce: string, frameSrc: string | undefined) => void {
  const tails = new Map<string | undefined, string>();
  return (res, nonce, frameSrc) => {
    let tail = tails.get(frameSrc);
    if (tail === undefined) {
      tail = cspTail(frameSrc, frameAncestors);
      tails.set(frameSrc, tail);
    }
    writePageHeaders(res, cspWithNonce(nonce, tail));
  };
}

/**
 * The page's headers: replaces the API policy helmet put on every response with the page's own. Framing is decided
 * by `frame-ancestors` alone, so helmet's `X-Frame-Options: SAMEORIGIN` (which would refuse the
 * frontend's iframe in browsers that prefer it) goes. No Cross-Origin-Opener-Policy is set:
 * `same-origin` would cut the popup's `window.opener`, and the frontend's opener link too.
 */
function writePageHeaders(res: Response, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.removeHeader('X-Frame-Options');
  res.removeHeader('Cross-Origin-Opener-Policy');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}
