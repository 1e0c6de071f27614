import { escapeHtml } from '../http/html.js';
import { ERROR_PAGE_SCRIPT, HOST_PAGE_SCRIPT } from './host-page.script.js';

/** What the page script needs; travels as a JSON data block, never spliced into script source. */
export interface HostPageData {
  sessionId: string;
  presentation: 'iframe' | 'popup';
  /** Minted at load in iframe mode; null in popup mode (minted on click through `widgetUrlEndpoint`). */
  widgetUrl: string | null;
  /** Relative to the page (works behind a path prefix): POST here for a fresh widget URL. */
  widgetUrlEndpoint: string;
  /** Relative to the page: POST each accepted widget event here. */
  eventsUrl: string;
  /** Relative to the page: POST here when the person presses Cancel. */
  cancelUrl: string;
  /** The session's expiry (ISO 8601): the page treats the session as ended after it. */
  expiresAt: string;
  /** The frontend origin that receives sanitized events; null sends none. */
  targetOrigin: string | null;
  /** Allow-listed at session creation; the page returns here after a terminal event. */
  redirectUri: string | null;
}

export interface ErrorPageContent {
  status: number;
  title: string;
  message: string;
  /** Offer a reload (the failure is on our side or upstream and may pass). */
  retry: boolean;
}



/**
 * JSON that is inert inside `<script type="application/json">`: no `<` (so no `</script>` or
 * `<!--`), no `>`/`&`, and no U+2028/2029. JSON.parse reads the escapes back unchanged.
 */
export const jsonForScript = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const STYLE = `
  :root { color-scheme: light; }
  html, body { height: 100%; margin: 0; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #fff; display: flex; flex-direction: column; }
  main { flex: 1; display: flex; flex-direction: column; min-height: 0; }
  .status { margin: 0; padding: .6rem 1rem; font-size: .9rem; color: #5b6478; }
  .status:empty { display: none; }
  .status[data-state="connected"] { color: #1b7a3a; font-weight: 600; }
  .status[data-state="failed"], .status[data-state="error"], .status[data-state="blocked"] { color: #b3261e; font-weight: 600; }
  .notice { margin: .6rem 1rem; padding: .6rem .8rem; border: 1px solid #e3b4b0; border-radius: 6px; background: #fdf1f0; color: #8c1d18; }
  iframe { flex: 1; width: 100%; min-height: 560px; border: 0; }
  .panel { margin: auto; max-width: 26rem; padding: 1.5rem; text-align: center; }
  h1 { font-size: 1.2rem; margin: 0 0 .6rem; }
  button, a.button { display: inline-block; margin-top: 1rem; padding: .7rem 1.4rem; font-size: 1rem; border: 0; border-radius: 6px; background: #2456d3; color: #fff; cursor: pointer; text-decoration: none; }
  button[disabled] { opacity: .6; cursor: default; }
  .actions { margin: 0; padding: 0 1rem; text-align: right; }
  .actions button { margin-top: .4rem; padding: .35rem .9rem; font-size: .9rem; background: transparent; color: #2456d3; border: 1px solid #c5cbd8; }
  .actions button[hidden] { display: none; }
  .status[data-state="hint"] { color: #8a5a00; font-weight: 600; }
`;

function layout(nonce: string, title: string, body: string): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style nonce="${n}">${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The host page: a status line, then the widget frame (iframe mode) or the button that opens it (popup mode). */
export function renderHostPage(nonce: string, data: HostPageData): string {
  const n = escapeHtml(nonce);
  const widget =
    data.presentation === 'iframe'
      ? `<iframe id="widget" data-testid="widget-frame" title="Connect your account" hidden></iframe>`
      : `<div class="panel" id="popup-panel">
  <h1>Connect your account</h1>
  <p>The connection opens in a new window.</p>
  <button type="button" id="open-widget" data-testid="open-widget">Connect your account</button>
</div>`;
  return layout(
    nonce,
    'Connect your account',
    `<main>
<p id="status" class="status" data-testid="host-status" data-state="loading" role="status" aria-live="polite">Loading…</p>
<p id="notice" class="notice" data-testid="host-notice" role="alert" hidden></p>
<p class="actions"><button type="button" id="cancel" class="secondary" data-testid="cancel-button">Cancel</button></p>
<p id="continue" class="panel" hidden><a id="continue-link" class="button" data-testid="continue-link" target="_top" rel="noreferrer">Continue</a></p>
${widget}
</main>
<script type="application/json" id="host-data">${jsonForScript(data)}</script>
<script nonce="${n}">${HOST_PAGE_SCRIPT}</script>`,
  );
}

/** A person reads this, so: a title, one sentence, a retry when it may help, and never internals. */
export function renderErrorPage(nonce: string, content: ErrorPageContent): string {
  const n = escapeHtml(nonce);
  return layout(
    nonce,
    content.title,
    `<main>
<div class="panel">
  <h1>${escapeHtml(content.title)}</h1>
  <p class="status" data-testid="host-status" data-state="error" data-status="${content.status}" role="alert">${escapeHtml(content.message)}</p>
  ${content.retry ? `<button type="button" id="retry" data-testid="retry-button">Try again</button>` : ''}
</div>
</main>
${content.retry ? `<script nonce="${n}">${ERROR_PAGE_SCRIPT}</script>` : ''}`,
  );
}
