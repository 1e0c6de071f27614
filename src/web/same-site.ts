import { isIP } from 'node:net';
import { getDomain } from 'tldts';
import type { Config } from '../config.js';

/**
 * The registrable domain ("site" without the scheme) by the Public Suffix List, private section
 * included: browsers compute SameSite on the full list, so `a.github.io` and `b.github.io` are
 * cross-site. Where there is none (an IP address, `localhost`, a public suffix itself), the
 * host stands for itself, so such hosts are same-site only with the very same host.
 */
function registrableDomain(hostname: string): string {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(host) !== 0) return host;
  return getDomain(host, { allowPrivateDomains: true, extractHostname: false }) ?? host;
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
