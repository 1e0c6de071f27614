/**
 * Turning a UCW error body into a short, safe, human-readable message.
 *
 * The UCW answers validation failures as `text/html` with the Joi message HTML-encoded
 * (`&#x22;jobTypes&#x22; is required`), and some routes answer JSON `{ "message": … }`.
 * The result ends up in a problem+json `detail`, so it is decoded, stripped of markup,
 * flattened to one line and capped: a misbehaving upstream can't flood our responses.
 */

export const MAX_MESSAGE_LENGTH = 300;

const NAMED_ENTITIES: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  apos: "'",
  nbsp: ' ',
};

/**
 * Decodes HTML character references in a single pass, so `&amp;lt;` becomes the literal
 * `&lt;` (as the author meant) and not `<`. Unknown names and invalid code points stay as written.
 */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const codePoint = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      // NUL, surrogates and out-of-range values are not characters; keep the original text.
      if (codePoint === 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return whole;
      return String.fromCodePoint(codePoint);
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Extracts a one-line message from a UCW error body (HTML, plain text or JSON). */
export function ucwErrorMessage(body: string, contentType = ''): string {
  let text = body;
  if (contentType.includes('json') || /^\s*[{[]/.test(body)) {
    text = messageFromJson(body) ?? body;
  }
  const flattened = decodeHtmlEntities(text.replace(/<[^>]*>/g, ' '))
    // Control characters (log injection, terminal escapes) have no place in a message.
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flattened.length > MAX_MESSAGE_LENGTH ? `${flattened.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : flattened;
}

function messageFromJson(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      for (const key of ['message', 'error_description', 'error', 'detail']) {
        const value = record[key];
        if (typeof value === 'string' && value.trim()) return value;
      }
    }
  } catch {
    // Not JSON after all: the caller uses the raw text.
  }
  return undefined;
}
