import { isIP } from 'node:net';
import type { Config } from '../config.js';

// Second-level labels that, under a two-letter country code, are public suffixes (co.uk,
// com.au, ac.jp…). Without a public-suffix list this keeps the common cases from being
// reported as same-site, which would pick an iframe that then fails.
const SECOND_LEVEL_SUFFIXES = new Set(['ac', 'co', 'com', 'edu', 'gov', 'go', 'ne', 'net', 'or', 'org']);

/**
 * An approximation of the registrable domain ("site" without the scheme): the host itself for
 * IP addresses and single-label names (localhost), else the last two labels, or three under a
 * `co.uk`-style suffix.
 */
function registrableDomain(hostname: string): string {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(host) !== 0) return host;
  const labels = host.split('.');
  if (labels.length <= 2) return host;
  const last = labels[labels.length - 1]!;
  const second = labels[labels.length - 2]!;
  const take = last.length === 2 && SECOND_LEVEL_SUFFIXES.has(second) ? 3 : 2;
  return labels.slice(-take).join('.');
}

/**
 * Whether two URLs (or origins) are same-site as browsers judge it for `SameSite` cookies:
 * same scheme (Chromium's "schemeful same-site") and same registrable domain; ports do not count.
 * Unparseable input is never same-site.
 */
export function isSameSite(a: string, b: string): boolean {
  let left: URL;
  let right: URL;
  try {
    left = new URL(a);
    right = new URL(b);
  } catch {
    return false;
  }
  return left.protocol === right.protocol && registrableDomain(left.hostname) === registrableDomain(right.hostname);
}

/**
 * How the host page shows the widget. `auto` picks the iframe only where the UCW's
 * `SameSite=Strict` widget cookie survives framing (UCW auth off, where there is no cookie to
 * lose, or the UCW same-site with PUBLIC_URL and with the frontend that will frame the page:
 * browsers judge a nested frame against every ancestor); otherwise a popup, where it is first-party.
 */
export function resolvePresentation(
  requested: 'auto' | 'iframe' | 'popup',
  config: Pick<Config, 'publicUrl'> & { ucw: Pick<Config['ucw'], 'url' | 'auth'> },
  targetOrigin: string | null = null,
): 'iframe' | 'popup' {
  if (requested !== 'auto') return requested;
  if (config.ucw.auth.mode === 'none') return 'iframe';
  const ucw = config.ucw.url;
  if (ucw === undefined || !isSameSite(ucw, config.publicUrl)) return 'popup';
  return targetOrigin === null || isSameSite(ucw, targetOrigin) ? 'iframe' : 'popup';
}

/** The start-up warning when UCW auth is on and the UCW is cross-site to PUBLIC_URL; undefined otherwise. */
export function crossSiteWarning(config: Pick<Config, 'publicUrl'> & { ucw: Pick<Config['ucw'], 'url' | 'auth'> }): string | undefined {
  if (config.ucw.auth.mode === 'none' || config.ucw.url === undefined) return undefined;
  if (isSameSite(config.ucw.url, config.publicUrl)) return undefined;
  const ucw = new URL(config.ucw.url).origin;
  const bff = new URL(config.publicUrl).origin;
  return (
    `UCW_URL (${ucw}) is cross-site to PUBLIC_URL (${bff}) and UCW auth is on: the UCW's SameSite=Strict ` +
    `widget cookie is refused inside a cross-site iframe, so host pages with presentation "auto" open the ` +
    `widget in a popup, and presentation "iframe" fails in browsers that block third-party cookies. ` +
    `Serve the UCW and the BFF from the same registrable domain to embed the widget in an iframe.`
  );
}
