import { DEMO_PAGE_SCRIPT } from './demo.script.js';
import { escapeHtml } from '../http/html.js';

const STYLE = `
  :root { color-scheme: light; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #f6f7fb; margin: 0; }
  header { background: #1d2433; color: #fff; padding: 1rem 1.5rem; }
  header h1 { margin: 0; font-size: 1.25rem; }
  header p { margin: .3rem 0 0; color: #c8cedb; font-size: .9rem; }
  .sandbox { display: inline-block; margin-left: .5rem; padding: .1rem .5rem; border-radius: 4px; background: #f4b400; color: #1d2433; font-size: .75rem; font-weight: 700; vertical-align: middle; }
  main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  section { background: #fff; border: 1px solid #e1e5ee; border-radius: 8px; padding: 1rem 1.25rem; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 1rem; margin: 0 0 .75rem; }
  label { display: inline-flex; gap: .35rem; align-items: center; margin-right: 1rem; font-size: .9rem; }
  fieldset { border: 0; padding: 0; margin: 0 0 .75rem; }
  legend { font-size: .8rem; color: #5b6478; margin-bottom: .3rem; padding: 0; }
  input[type="text"] { padding: .45rem .6rem; border: 1px solid #c8cedb; border-radius: 6px; font-size: .95rem; }
  button { padding: .45rem .9rem; border: 0; border-radius: 6px; background: #2456d3; color: #fff; cursor: pointer; font-size: .9rem; margin-right: .4rem; }
  button.secondary { background: #e7ebf5; color: #1d2433; }
  button[disabled] { opacity: .6; cursor: default; }
  table { width: 100%; border-collapse: collapse; font-size: .85rem; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #eef0f5; vertical-align: top; }
  td:first-child { font-family: ui-monospace, monospace; font-size: .8rem; }
  [data-status="connected"] { color: #1b7a3a; font-weight: 600; }
  [data-status="needs_attention"], [data-status="error"] { color: #b3261e; font-weight: 600; }
  .yes { color: #1b7a3a; } .no { color: #8a93a6; }
  ol#event-log { list-style: none; margin: 0; padding: 0; max-height: 22rem; overflow: auto; font-size: .8rem; }
  ol#event-log li { padding: .35rem 0; border-bottom: 1px solid #eef0f5; display: grid; grid-template-columns: 6rem 1fr; gap: .2rem .5rem; }
  ol#event-log time { color: #8a93a6; }
  ol#event-log code { grid-column: 2; word-break: break-all; color: #3d4659; }
  li[data-kind="error"] strong { color: #b3261e; }
  li[data-kind="success"] strong { color: #1b7a3a; }
  .hint { color: #5b6478; font-size: .85rem; }
  @media (max-width: 50rem) { main { grid-template-columns: 1fr; } }
`;

/**
 * The sandbox demo page. The only interpolated values are the nonce and the script's URL, both
 * escaped; everything dynamic is rendered by the script with textContent.
 */
export function renderDemoPage(nonce: string): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>ucw-bff sandbox demo</title>
<style nonce="${n}">${STYLE}</style>
<script nonce="${n}" src="connect.js"></script>
</head>
<body>
<header>
  <h1>ucw-bff demo <span class="sandbox">SANDBOX</span></h1>
  <p>This page runs against the built-in UCW simulator with a development login: no real bank, no real credentials.
  It uses <code>/connect.js</code> the way a platform frontend would. It is never served in production.</p>
</header>
<main>
  <section>
    <h2>1. Sign in (dev login)</h2>
    <form id="login-form" data-testid="login-form">
      <div id="signed-out">
        <label>User id <input id="user-id" data-testid="user-id" type="text" value="demo-user" required maxlength="128" autocomplete="off"></label>
        <button type="submit" data-testid="login">Sign in</button>
      </div>
    </form>
    <div id="signed-in" hidden>
      <p>Signed in as <strong id="current-user" data-testid="current-user"></strong>.</p>
      <button type="button" id="logout" class="secondary" data-testid="logout">Sign out</button>
    </div>
    <p class="hint">The dev login trusts any user id and sets an HttpOnly cookie; production uses your identity provider's tokens.</p>
  </section>
  <section id="connect-panel" hidden>
    <h2>2. Connect an account</h2>
    <fieldset>
      <legend>Job types</legend>
      <label><input type="checkbox" name="jobTypes" value="transactions" checked> transactions</label>
      <label><input type="checkbox" name="jobTypes" value="accountNumber"> accountNumber</label>
      <label><input type="checkbox" name="jobTypes" value="accountOwner"> accountOwner</label>
      <label><input type="checkbox" name="jobTypes" value="transactionHistory"> transactionHistory</label>
    </fieldset>
    <fieldset>
      <legend>Presentation</legend>
      <label><input type="radio" name="presentation" value="modal" data-testid="presentation-modal" checked> iframe (modal)</label>
      <label><input type="radio" name="presentation" value="popup" data-testid="presentation-popup"> popup window</label>
    </fieldset>
    <fieldset>
      <legend>Institution id (optional: skips the search)</legend>
      <input id="institution-id" type="text" autocomplete="off" placeholder="e.g. a UCP institution id">
    </fieldset>
    <button type="button" id="connect" data-testid="connect">Connect an account</button>
    <p class="hint">In the simulator, Sandbox Bank and MX Bank connect; Failure Bank fails.</p>
  </section>
  <section id="connections-panel" class="wide" hidden>
    <h2>3. Your connections <button type="button" id="refresh-list" class="secondary" data-testid="refresh-list">Reload</button></h2>
    <table>
      <thead><tr><th>Id</th><th>Institution</th><th>Aggregator</th><th>Status</th><th>Verified</th><th>Data ready</th><th>Notes</th><th>Updated</th><th></th></tr></thead>
      <tbody id="connections-body" data-testid="connections"></tbody>
    </table>
    <p id="no-connections" class="hint">No connections yet.</p>
  </section>
  <section class="wide">
    <h2>Event log <button type="button" id="clear-log" class="secondary">Clear</button></h2>
    <ol id="event-log" data-testid="event-log"></ol>
  </section>
</main>
<script nonce="${n}">${DEMO_PAGE_SCRIPT}</script>
</body>
</html>`;
}
