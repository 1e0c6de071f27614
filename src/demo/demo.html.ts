import { DEMO_PAGE_JS } from '../generated/browser-bundles.js';
import { html, htmlPage, pageWithNonce, trusted } from '../lib/html.js';

const STYLE = trusted(`
  :root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #e1e5ee; --blue: #2456d3; --green: #1b7a3a; --red: #b3261e; --amber: #8a5a00; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7fb; margin: 0; }
  header { background: var(--ink); color: #fff; padding: 1rem 1.5rem; }
  header h1 { margin: 0; font-size: 1.25rem; }
  header p { margin: .3rem 0 0; color: #c8cedb; font-size: .9rem; max-width: 60rem; }
  header code { color: #fff; }
  .sandbox { display: inline-block; margin-left: .5rem; padding: .1rem .5rem; border-radius: 4px; background: #f4b400; color: var(--ink); font-size: .75rem; font-weight: 700; vertical-align: middle; }
  main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 1rem; margin: 0 0 .75rem; display: flex; align-items: center; justify-content: space-between; gap: .5rem; }
  label { display: inline-flex; gap: .35rem; align-items: center; margin: 0 1rem .3rem 0; font-size: .9rem; }
  fieldset { border: 0; padding: 0; margin: 0 0 .75rem; }
  legend { font-size: .8rem; color: var(--muted); margin-bottom: .3rem; padding: 0; }
  input[type="text"] { padding: .45rem .6rem; border: 1px solid #c8cedb; border-radius: 6px; font-size: .95rem; max-width: 100%; }
  button { padding: .45rem .9rem; border: 1px solid transparent; border-radius: 6px; background: var(--blue); color: #fff; cursor: pointer; font-size: .9rem; }
  button.secondary { background: #e7ebf5; color: var(--ink); }
  button.danger { background: #fff; color: var(--red); border-color: #e7b4b0; }
  button.danger[data-confirming] { background: var(--red); color: #fff; }
  button[disabled] { opacity: .6; cursor: default; }
  .row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  #flow-status { grid-column: 1 / -1; border-radius: 8px; padding: .8rem 1.1rem; border: 1px solid var(--line); background: #fff; display: flex; gap: .75rem; align-items: flex-start; }
  #flow-status[hidden] { display: none; }
  #flow-status strong { display: block; }
  #flow-status p { margin: .2rem 0 0; color: var(--muted); font-size: .9rem; }
  #flow-status[data-state="working"] { border-color: #b9c8f2; background: #f1f5ff; }
  #flow-status[data-state="success"] { border-color: #a9d8b8; background: #effaf2; }
  #flow-status[data-state="error"] { border-color: #f0b8b3; background: #fff3f2; }
  .dot { width: .75rem; height: .75rem; border-radius: 50%; margin-top: .3rem; flex: none; background: var(--blue); }
  [data-state="success"] .dot { background: var(--green); }
  [data-state="error"] .dot { background: var(--red); }
  #flow-status[data-state="attention"] { border-color: #ecd08a; background: #fff8e6; }
  [data-state="attention"] .dot { background: var(--amber); }
  #flow-status[data-state="cancelled"] { border-color: var(--line); background: #f3f4f7; }
  [data-state="cancelled"] .dot { background: var(--muted); }
  table { width: 100%; border-collapse: collapse; font-size: .9rem; }
  th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid #eef0f5; vertical-align: top; }
  th { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
  .institution { font-weight: 600; }
  .id { display: block; font-family: ui-monospace, monospace; font-size: .75rem; color: var(--muted); }
  .badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #eef0f5; }
  .badge[data-status="connected"] { background: #e3f4e8; color: var(--green); }
  .badge[data-status="needs_attention"], .badge[data-status="error"] { background: #fdeceb; color: var(--red); }
  .badge[data-status="pending"] { background: #fff4dc; color: var(--amber); }
  .explain { display: block; margin-top: .25rem; font-size: .8rem; color: var(--muted); max-width: 22rem; }
  .check[data-on="true"] { color: var(--green); font-weight: 600; }
  .check[data-on="false"] { color: #8a93a6; }
  td.actions { white-space: nowrap; text-align: right; }
  td.actions button { margin-left: .3rem; }
  dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; font-size: .85rem; color: var(--muted); margin: .75rem 0 0; }
  dl.legend dt { font-weight: 600; color: var(--ink); }
  dl.legend dd { margin: 0; }
  ol#event-log { list-style: none; margin: 0; padding: 0; max-height: 22rem; overflow: auto; font-size: .85rem; }
  ol#event-log li { padding: .4rem 0; border-bottom: 1px solid #eef0f5; display: grid; grid-template-columns: 5.5rem minmax(0, 1fr); gap: .1rem .5rem; }
  ol#event-log time { color: #8a93a6; font-variant-numeric: tabular-nums; }
  ol#event-log .text { min-width: 0; overflow-wrap: anywhere; }
  ol#event-log details { grid-column: 2; font-size: .75rem; color: var(--muted); }
  ol#event-log pre { margin: .25rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .75rem; }
  li[data-kind="error"] .text { color: var(--red); }
  li[data-kind="success"] .text { color: var(--green); font-weight: 600; }
  .hint { color: var(--muted); font-size: .85rem; }
  @media (max-width: 50rem) { main { grid-template-columns: minmax(0, 1fr); padding: 1rem .75rem 2rem; } header { padding: 1rem .9rem; } }
  @media (max-width: 40rem) {
    thead { display: none; }
    table, tbody, tr, td { display: block; width: 100%; }
    tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
    td { border: 0; padding: .2rem 0; }
    td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .8rem; }
    td.actions { text-align: left; padding-top: .4rem; }
    td.actions button { margin: 0 .4rem 0 0; }
  }
`);

// The bundle (src/browser/demo/), wrapped once at start-up.
const DEMO_PAGE_SCRIPT = trusted(DEMO_PAGE_JS);

/**
 * The sandbox demo page, rendered once: each response only fills in its nonce. Everything
 * dynamic is rendered by the script with textContent.
 */
export const renderDemoPage: (nonce: string) => string = pageWithNonce((nonce) =>
  htmlPage({
    nonce,
    title: 'ucw-bff sandbox demo',
    style: STYLE,
    head: html`<meta name="robots" content="noindex">
<script nonce="${nonce}" src="connect.js"></script>
`,
    body: html`<header>
  <h1>ucw-bff demo <span class="sandbox">SANDBOX</span></h1>
  <p>A platform frontend as your users would see it, running against the built-in UCW simulator with a
  development login: no real bank, no real credentials. It uses <code>/connect.js</code> exactly as your
  frontend would. It is never served in production.</p>
</header>
<main>
  <div id="flow-status" data-testid="flow-status" data-state="idle" role="status" aria-live="polite" hidden>
    <span class="dot" aria-hidden="true"></span>
    <div><strong id="flow-title"></strong><p id="flow-detail"></p></div>
  </div>
  <section>
    <h2>1. Sign in</h2>
    <form id="login-form" data-testid="login-form">
      <div id="signed-out" class="row">
        <label>User id <input id="user-id" data-testid="user-id" type="text" value="demo-user" required maxlength="128" autocomplete="off"></label>
        <button type="submit" data-testid="login">Sign in</button>
      </div>
    </form>
    <div id="signed-in" class="row" hidden>
      <span>Signed in as <strong id="current-user" data-testid="current-user"></strong>.</span>
      <button type="button" id="logout" class="secondary" data-testid="logout">Sign out</button>
    </div>
    <p class="hint">The development login trusts any user id. In production your frontend passes your identity provider's token instead.</p>
  </section>
  <section id="connect-panel" hidden>
    <h2>2. Connect an account</h2>
    <fieldset>
      <legend>Data to request (job types)</legend>
      <label><input type="checkbox" name="jobTypes" value="transactions" checked> transactions</label>
      <label><input type="checkbox" name="jobTypes" value="accountNumber"> accountNumber</label>
      <label><input type="checkbox" name="jobTypes" value="accountOwner"> accountOwner</label>
      <label><input type="checkbox" name="jobTypes" value="transactionHistory"> transactionHistory</label>
    </fieldset>
    <fieldset>
      <legend>Presentation</legend>
      <label><input type="radio" name="presentation" value="modal" data-testid="presentation-modal" checked> in the page (modal)</label>
      <label><input type="radio" name="presentation" value="popup" data-testid="presentation-popup"> popup window</label>
    </fieldset>
    <fieldset>
      <legend>Institution id (optional: skips the search)</legend>
      <input id="institution-id" type="text" autocomplete="off" placeholder="e.g. sandbox-bank">
    </fieldset>
    <button type="button" id="connect" data-testid="connect">Connect an account</button>
    <p class="hint">In the simulator, Sandbox Bank and MX Bank connect; Failure Bank refuses every password; the password <code>wrong</code> is refused once at any bank, and the person can correct it in the widget.</p>
  </section>
  <section id="connections-panel" class="wide" hidden>
    <h2>3. Your connections <button type="button" id="refresh-list" class="secondary" data-testid="refresh-list">Reload</button></h2>
    <table>
      <thead><tr><th>Institution</th><th>Status</th><th>Verified</th><th>Data ready</th><th>Updated</th><th><span hidden>Actions</span></th></tr></thead>
      <tbody id="connections-body" data-testid="connections"></tbody>
    </table>
    <p id="no-connections" class="hint">No connections yet: connect an account above.</p>
    <dl class="legend">
      <dt>Verified</dt><dd>ucw-bff read the connection's accounts back from the UCW itself, so it is not just the browser's word.</dd>
      <dt>Data ready</dt><dd>Accounts and transactions can be fetched now; your backend gets a <code>connection.data_ready</code> webhook.</dd>
      <dt>Refresh</dt><dd>Opens the widget again for the same connection (e.g. after the bank asked the user to sign in again).</dd>
    </dl>
  </section>
  <section class="wide">
    <h2>What happened <button type="button" id="clear-log" class="secondary">Clear</button></h2>
    <ol id="event-log" data-testid="event-log"></ol>
    <p class="hint">Each line is something your frontend is told through <code>/connect.js</code> callbacks (<code>onLoad</code>, <code>onEvent</code>, <code>onSuccess</code>, <code>onExit</code>) or reads from the API. Open a line for its data: aggregator ids and tokens never reach the browser.</p>
  </section>
</main>
<script nonce="${nonce}">${DEMO_PAGE_SCRIPT}</script>`,
  }),
);
