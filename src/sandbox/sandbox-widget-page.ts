/**
 * The simulated widget page. It holds no parameters itself: it only knows its session id and
 * asks the simulator's API for everything (with the `authorizationToken` cookie), so a browser
 * that refuses the SameSite=Strict cookie (a cross-site iframe) gets a 401 at load, shows
 * "Something went wrong" and posts nothing — the real UCW's failure mode.
 *
 * Stable hooks for browser tests:
 *   widget-status (data-state: loading | search | credentials | retry | connecting | connected | failed | error),
 *   institution-<id>, username-input, password-input, connect-button, back-button.
 */
export function renderWidgetPage(sessionId: string): string {
  // The session id is a server-generated UUID; nothing request-controlled reaches the HTML.
  return `<!doctype html>
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
  <h1>Universal Connect Widget — sandbox</h1>
  <p class="note">A simulator: no real bank is contacted. "Failure Bank" refuses any credentials; the password "wrong" is refused once at any bank, and the form stays live for another try.</p>
  <p data-testid="widget-status" data-state="loading" role="status">Loading…</p>
  <div id="view"></div>
</main>
<script>
${WIDGET_SCRIPT}
</script>
</body>
</html>
`;
}

const WIDGET_SCRIPT = String.raw`(function () {
  'use strict';
  var sessionId = document.getElementById('widget').getAttribute('data-session');
  var view = document.getElementById('view');
  var statusEl = document.querySelector('[data-testid="widget-status"]');
  var base = '/api/sim/sessions/' + encodeURIComponent(sessionId);
  var config = null;
  var step = 'loading';

  function setStatus(state, text) {
    statusEl.setAttribute('data-state', state);
    statusEl.textContent = text;
  }

  // To the framing page and to the opener (popup), with the widget's targetOrigin, like the UCW.
  function post(event) {
    var targets = [];
    if (window.parent && window.parent !== window) targets.push(window.parent);
    if (window.opener) targets.push(window.opener);
    targets.forEach(function (target) {
      try {
        target.postMessage({ type: event.type, metadata: event.metadata }, config.targetOrigin);
      } catch (error) {
        console.warn('postMessage failed', error);
      }
    });
  }

  function api(method, path, body) {
    return fetch(base + path, {
      method: method,
      credentials: 'include',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    });
  }

  function fail(error) {
    console.warn('sandbox widget error', error);
    view.replaceChildren();
    setStatus('error', 'Something went wrong');
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function goTo(next) {
    if (step !== 'loading' && step !== next) post({ type: 'connect/stepChange', metadata: { current: next, previous: step } });
    step = next;
  }

  function showSearch() {
    goTo('search');
    view.replaceChildren(el('p', {}, 'Select your institution'));
    config.institutions.forEach(function (institution) {
      var button = el('button', { type: 'button', 'data-testid': 'institution-' + institution.id }, institution.name);
      button.addEventListener('click', function () {
        post(institution.selectedEvent);
        showCredentials(institution, true);
      });
      view.appendChild(button);
    });
    setStatus('search', 'Choose an institution');
  }

  function showCredentials(institution, canGoBack, retryMessage) {
    goTo('enterCreds');
    view.replaceChildren(
      el('p', {}, 'Sign in to ' + institution.name + ' (any username and password)'),
      el('label', { for: 'username' }, 'Username'),
      el('input', { id: 'username', 'data-testid': 'username-input', autocomplete: 'off', value: 'sandbox-user' }),
      el('label', { for: 'password' }, 'Password'),
      el('input', { id: 'password', type: 'password', 'data-testid': 'password-input', value: 'sandbox-password' })
    );
    var connect = el('button', { type: 'button', class: 'primary', 'data-testid': 'connect-button' }, 'Connect');
    connect.addEventListener('click', function () { submit(institution, canGoBack); });
    view.appendChild(connect);
    if (canGoBack) {
      var back = el('button', { type: 'button', 'data-testid': 'back-button' }, 'Back');
      back.addEventListener('click', showSearch);
      view.appendChild(back);
    }
    if (retryMessage) setStatus('retry', retryMessage);
    else setStatus('credentials', 'Enter your credentials');
  }

  function submit(institution, canGoBack) {
    var password = document.getElementById('password').value;
    goTo('connecting');
    view.replaceChildren();
    setStatus('connecting', 'Connecting to ' + institution.name + '…');
    api('POST', '/connect', { institutionId: institution.id, password: password })
      .then(function (result) {
        result.events.forEach(post);
        if (result.outcome === 'retry') {
          // Like the real widget: the error is posted, and the form stays live for a correction.
          showCredentials(institution, canGoBack, result.message);
          return;
        }
        goTo(result.outcome === 'connected' ? 'connected' : 'error');
        setStatus(result.outcome === 'connected' ? 'connected' : 'failed', result.message);
        if (result.outcome !== 'connected' && !config.preselected) {
          var retry = el('button', { type: 'button', 'data-testid': 'back-button' }, 'Try another institution');
          retry.addEventListener('click', showSearch);
          view.appendChild(retry);
        }
      })
      .catch(fail);
  }

  // The host can ask the widget to go back, as it can with the real one.
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!config || !data || data.type !== 'mx/navigation' || !data.payload || data.payload.action !== 'back') return;
    var canGoBack = step === 'enterCreds' && !config.preselected;
    if (canGoBack) showSearch();
    post({ type: 'navigation', metadata: { did_go_back: canGoBack } });
  });

  api('GET', '')
    .then(function (loaded) {
      config = loaded;
      post(config.loadedEvent);
      if (config.preselected) {
        showCredentials(config.preselected, false);
      } else {
        showSearch();
      }
    })
    .catch(fail);
})();`;
