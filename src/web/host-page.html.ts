import { ERROR_PAGE_JS, HOST_PAGE_JS } from '../generated/browser-bundles.js';
import { html, htmlPage, jsonDataBlock, trusted } from '../lib/html.js';
import type { HostPageData } from './host-page.data.js';

export type { HostPageData };

export interface ErrorPageContent {
  status: number;
  title: string;
  message: string;
  /** Offer a reload (the failure is on our side or upstream and may pass). */
  retry: boolean;
}

const STYLE = trusted(`
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
`);

// The bundles (src/browser/host-page/), wrapped once at start-up, never per response.
const HOST_PAGE_SCRIPT = trusted(HOST_PAGE_JS);
const ERROR_PAGE_SCRIPT = trusted(ERROR_PAGE_JS);

/** The host page: a status line, then the widget frame (iframe mode) or the button that opens it (popup mode). */
export function renderHostPage(nonce: string, data: HostPageData): string {
  const widget =
    data.presentation === 'iframe'
      ? html`<iframe id="widget" data-testid="widget-frame" title="Connect your account" hidden></iframe>`
      : html`<div class="panel" id="popup-panel">
  <h1>Connect your account</h1>
  <p>The connection opens in a new window.</p>
  <button type="button" id="open-widget" data-testid="open-widget">Connect your account</button>
</div>`;
  return htmlPage({
    nonce,
    title: 'Connect your account',
    style: STYLE,
    body: html`<main>
<p id="status" class="status" data-testid="host-status" data-state="loading" role="status" aria-live="polite">Loading&hellip;</p>
<p id="notice" class="notice" data-testid="host-notice" role="alert" hidden></p>
<p class="actions"><button type="button" id="cancel" class="secondary" data-testid="cancel-button">Cancel</button></p>
<p id="continue" class="panel" hidden><a id="continue-link" class="button" data-testid="continue-link" target="_top" rel="noreferrer">Continue</a></p>
${widget}
</main>
${jsonDataBlock('host-data', data)}
<script nonce="${nonce}">${HOST_PAGE_SCRIPT}</script>`,
  });
}

/** A person reads this, so: a title, one sentence, a retry when it may help, and never internals. */
export function renderErrorPage(nonce: string, content: ErrorPageContent): string {
  return htmlPage({
    nonce,
    title: content.title,
    style: STYLE,
    body: html`<main>
<div class="panel">
  <h1>${content.title}</h1>
  <p class="status" data-testid="host-status" data-state="error" data-status="${content.status}" role="alert">${content.message}</p>
  ${content.retry && html`<button type="button" id="retry" data-testid="retry-button">Try again</button>`}
</div>
</main>
${content.retry && html`<script nonce="${nonce}">${ERROR_PAGE_SCRIPT}</script>`}`,
  });
}
