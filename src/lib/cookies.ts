/**
 * The value of the cookie `name` in a `Cookie` request header, or undefined. Only the one cookie
 * the service reads (the platform's auth cookie) is ever looked for, so the header is scanned
 * for it where it is needed instead of being parsed into an object on every request. Values are
 * percent-decoded as the `cookie` package (Express's) decodes them; a value that does not decode is taken as is.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!value.includes('%')) return value;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
