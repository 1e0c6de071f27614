/**
 * Where a host page may send the person when done (SPEC §5 `redirectUri`). The page navigates
 * there with `location`, so a script-carrying scheme would run on the BFF's origin and a
 * cleartext one would leak the outcome on the network.
 */

/** Schemes that run code, read local data or are not a place to return to: never allowed. */
const NEVER = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about', 'filesystem', 'view-source', 'ws', 'wss', 'ftp']);

const LOOPBACK_HOST = /^(localhost|[\w-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why `uri` may not be a redirect URI, or undefined when it may: `https:`; `http:` only to a
 * loopback host and only outside production; or a custom app scheme (`myapp:`), which is allowed
 * because listing it in ALLOWED_REDIRECT_URIS is the explicit configuration.
 */
export function redirectUriProblem(uri: string, options: { production: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (NEVER.has(scheme)) return `the ${scheme}: scheme is never allowed`;
  if (url.username || url.password) return 'must not carry credentials';
  if (scheme === 'https') return url.hostname ? undefined : 'needs a host';
  if (scheme === 'http') {
    if (options.production) return 'http: is not allowed in production (use https:)';
    return LOOPBACK_HOST.test(url.hostname) ? undefined : 'http: is allowed only for loopback hosts (use https:)';
  }
  // A custom app scheme, e.g. myapp://connected for a mobile return.
  return /^[a-z][a-z0-9+.-]*$/.test(scheme) ? undefined : 'has an unusable scheme';
}
