import { SANDBOX_WIDGET_JS } from '../generated/browser-bundles.js';
import { html, trusted } from '../lib/html.js';

// The bundle (src/browser/sandbox-widget/), wrapped once at start-up.
const WIDGET_SCRIPT = trusted(SANDBOX_WIDGET_JS);

/**
 * The simulated widget page (its script: src/browser/sandbox-widget/widget.ts). It holds no parameters itself: it only knows its session id and
 * asks the simulator's API for everything (with the `authorizationToken` cookie), so a browser
 * that refuses the SameSite=Strict cookie (a cross-site iframe) gets a 401 at load, shows
 * "Something went wrong" and posts nothing — the real UCW's failure mode.
 *
 * Stable hooks for browser tests:
 *   widget-status (data-state: loading | search | credentials | retry | connecting | connected | failed | error),
 *   institution-<id>, username-input, password-input, connect-button, back-button.
 */
export function renderWidgetPage(sessionId: string): string {
  // The session id is a server-generated UUID, and escaped like any interpolated value.
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>Universal Connect Widget (sandbox)</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; padding: 1.5rem; color: #1d2433; background: #fff; }
  h1 { font-size: 1.1rem; margin: 0 0 1rem; }
  .note { font-size: .8rem; color: #5b6478; margin-bottom: 1rem; }
  button { display: block; width: 100%; margin: .4rem 0; padding: .7rem; font-size: 1rem; border: 1px solid #c5cbd8; border-radius: 6px; background: #f6f8fb; cursor: pointer; text-align: left; }
  button.primary { background: #2456d3; color: #fff; border-color: #2456d3; text-align: center; }
  label { display: block; margin: .5rem 0 .2rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  [data-testid="widget-status"] { margin: 0 0 1rem; font-weight: 600; }
  [data-state="failed"], [data-state="error"] { color: #b3261e; }
  [data-state="connected"] { color: #1b7a3a; }
</style>
</head>
<body>
<main id="widget" data-session="${sessionId}">
  <h1>Universal Connect Widget &mdash; sandbox</h1>
  <p class="note">A simulator: no real bank is contacted. "Failure Bank" refuses any credentials; the password "wrong" is refused once at any bank, and the form stays live for another try.</p>
  <p data-testid="widget-status" data-state="loading" role="status">Loading&hellip;</p>
  <div id="view"></div>
</main>
<script>
${WIDGET_SCRIPT}
</script>
</body>
</html>
`.value;
}
