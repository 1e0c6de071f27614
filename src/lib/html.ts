import { randomBytesFromPool } from './random-bytes.js';

/**
 * HTML templating with escaping by default: every value interpolated into `html\`…\`` is escaped
 * unless it is already `Html` (the result of another `html` template, or a constant marked with
 * `trusted`). Pages are built from it, never from string concatenation.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: text (escaped), markup, lists of either, and nothing (false, null, undefined). */
export type HtmlValue = Html | string | number | false | null | undefined | readonly HtmlValue[];

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === false || value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Marks a constant as markup (a style sheet, a bundled script): never for anything a request carries. */
export const trusted = (markup: string): Html => new Html(markup);

/**
 * JSON that is inert inside `<script>` (a `type="application/json"` block or script source): no
 * `<` (so no `</script>` or `<!--`), no `>`/`&`, and no U+2028/2029. JSON.parse reads the escapes
 * back unchanged.
 */
export const jsonForScript = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A `<script type="application/json">` block carrying a page's data to its script. */
export const jsonDataBlock = (id: string, value: unknown): Html =>
  html`<script type="application/json" id="${id}">${trusted(jsonForScript(value))}</script>`;

/** A fresh CSP nonce: 144 random bits, one per response. */
export const newNonce = (): string => randomBytesFromPool(18).toString('base64');

export interface PageParts {
  /** This response's CSP nonce, carried by the page's style and scripts. */
  nonce: string;
  title: string;
  /** The page's style sheet (a constant). */
  style: Html;
  /** Anything else the head needs (e.g. `<meta name="robots">`, a script). */
  head?: Html;
  body: Html;
}

/** One HTML document shell for every page: the same head, the page's own style and body. */
export function htmlPage({ nonce, title, style, head, body }: PageParts): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${style}</style>
${head}</head>
<body>
${body}
</body>
</html>
`.value;
}

/**
 * A page that varies only by its nonce, rendered once: each response fills the nonce into the
 * precomputed text instead of rendering the page again.
 */
export function pageWithNonce(render: (nonce: string) => string): (nonce: string) => string {
  const marker = 'NONCE-f3b1c2d4e5a6';
  const parts = render(marker).split(marker);
  return (nonce) => parts.join(escapeHtml(nonce));
}
