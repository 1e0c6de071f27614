/**
 * The host page's only script, inlined with the response's nonce. Plain browser JavaScript, no
 * dependencies: it reads its data from the `#host-data` JSON block (never from interpolated
 * source), shows the widget, accepts the widget's messages (right origin, right window, right
 * shape), relays them to the BFF in order until each is acknowledged, forwards the BFF's
 * sanitized copy to the frontend, and returns to the redirect URI when the session ends:
 * connected, cancelled (its Cancel control) or expired. A `connect/memberError` is not an end:
 * the widget keeps its form live, so the page shows a hint and stays.
 */
export const HOST_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('host-data').textContent);
  var statusEl = document.getElementById('status');
  var noticeEl = document.getElementById('notice');
  var framed = window.parent !== window;

  // The one window whose messages count (the iframe's or the popup's) and the origin it must have.
  var widgetWindow = null;
  var widgetOrigin = null;
  var popupWindow = null;
  var finished = false;
  // What the frontend last heard, so a page-made ending (expiry) can say the same things.
  var lastMetadata = { sessionId: data.sessionId, connectionId: null, aggregator: null, institutionId: null, status: 'opened' };
  var sawError = false;
  var cancelButton = document.getElementById('cancel');

  function setStatus(state, text) {
    statusEl.setAttribute('data-state', state);
    statusEl.textContent = text;
  }

  function showNotice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = false;
  }

  // A frontend other than the one that asked for this session should not be embedding it.
  function framerMismatch() {
    if (!framed || !data.targetOrigin) return null;
    var ancestors = window.location.ancestorOrigins;
    if (!ancestors || ancestors.length === 0) return null;
    return ancestors[0] === data.targetOrigin ? null : ancestors[0];
  }

  // Sanitized events (already stripped by the BFF) to the frontend, at its origin only.
  function forward(message) {
    if (!data.targetOrigin) return;
    var targets = [];
    if (framed) targets.push(window.parent);
    if (window.opener && window.opener !== window.parent) targets.push(window.opener);
    targets.forEach(function (target) {
      try {
        target.postMessage(message, data.targetOrigin);
      } catch (error) {
        console.warn('could not forward the event', error);
      }
    });
  }

  var DONE = window.parent === window ? ' You can close this window.' : '';

  // The session is over, one way or another: stop listening, close what we opened, go back.
  function finish(state, text, status) {
    if (finished) return;
    finished = true;
    setStatus(state, text);
    cancelButton.hidden = true;
    widgetWindow = null;
    if (popupWindow && !popupWindow.closed) {
      try {
        popupWindow.close();
      } catch (error) {
        console.warn('could not close the connection window', error);
      }
    }
    var panel = document.getElementById('popup-panel');
    if (panel) panel.hidden = true;
    returnToApp(status);
  }

  function returnToApp(status) {
    if (!data.redirectUri) return;
    var target = new URL(data.redirectUri);
    target.searchParams.set('sessionId', data.sessionId);
    target.searchParams.set('status', status);
    // Shown first: a framed page may not be allowed to navigate the top window.
    var link = document.getElementById('continue-link');
    link.href = target.href;
    document.getElementById('continue').hidden = false;
    try {
      window.top.location.href = target.href;
    } catch (error) {
      console.warn('could not navigate to the redirect URI', error);
    }
  }

  function acknowledged(event, answer) {
    if (finished) return;
    if (statusEl.getAttribute('data-state') === 'retrying') setStatus('ready', '');
    if (answer && answer.forward && typeof answer.forward === 'object') {
      if (answer.forward.metadata && typeof answer.forward.metadata === 'object') lastMetadata = answer.forward.metadata;
      forward(answer.forward);
    }
    var status = answer && answer.sessionStatus;
    if (status === 'connected') {
      finish('connected', 'Connected.' + DONE, 'connected');
    } else if (status === 'cancelled') {
      finish('cancelled', 'Cancelled.' + DONE, 'cancelled');
    } else if (event.type === 'connect/memberError') {
      // Not an end: the widget keeps its form live and lets the person correct the details.
      sawError = true;
      setStatus('hint', 'Check the details in the widget to continue.');
    } else if (statusEl.getAttribute('data-state') === 'hint' && event.type === 'connect/memberStatusUpdate') {
      setStatus('ready', '');
    }
  }

  // The BFF refuses events into a session that ended by time: the session is over.
  function ended() {
    if (finished) return;
    var status = sawError ? 'failed' : 'expired';
    lastMetadata.status = status;
    forward({ type: 'connect/expired', metadata: lastMetadata });
    finish('expired', 'This connect link has expired. Start again from the app.', status);
  }

  function cancel() {
    if (finished) return;
    cancelButton.disabled = true;
    fetch(data.cancelUrl, { method: 'POST', credentials: 'omit', cache: 'no-store', keepalive: true }).then(
      function (response) {
        if (response.status === 410) return ended();
        if (!response.ok) throw new Error(String(response.status));
        return response.json().then(function (answer) {
          if (answer && answer.forward && typeof answer.forward === 'object') forward(answer.forward);
          var status = answer && answer.sessionStatus;
          if (status === 'connected') finish('connected', 'Connected.' + DONE, 'connected');
          else if (status === 'cancelled') finish('cancelled', 'Cancelled.' + DONE, 'cancelled');
          else ended();
        });
      }
    ).catch(function (error) {
      console.warn('could not cancel', error);
      cancelButton.disabled = false;
      setStatus('error', 'Could not cancel. Try again.');
    });
  }

  cancelButton.addEventListener('click', cancel);
  // The session's own deadline: after it, the BFF ends it (failed after an error, else expired).
  var remaining = new Date(data.expiresAt).getTime() - Date.now();
  if (remaining < 2147483647) setTimeout(ended, Math.max(0, remaining) + 1000);

  // In order, one at a time; each event is retried until the BFF acknowledges it.
  var queue = [];
  var sending = false;

  function relay(event) {
    queue.push(event);
    pump();
  }

  function pump() {
    if (sending || queue.length === 0) return;
    sending = true;
    var event = queue[0];
    deliver(event, 0, function (answer) {
      queue.shift();
      sending = false;
      acknowledged(event, answer);
      pump();
    });
  }

  function deliver(event, attempt, done) {
    var body = JSON.stringify({ type: event.type, metadata: event.metadata });
    fetch(data.eventsUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body,
      // Lets the terminal event reach the BFF even if the page is closed right after it
      // (keepalive bodies are capped at 64 KiB, hence the guard).
      keepalive: body.length < 16384,
      credentials: 'omit',
      cache: 'no-store'
    }).then(
      function (response) {
        if (response.ok) {
          return response.json().then(done, function () { done(null); });
        }
        if (response.status === 429 || response.status >= 500) {
          retryLater(event, attempt, done, Number(response.headers.get('Retry-After')) * 1000);
          return;
        }
        // The BFF refused this event (expired link, bad shape…): sending it again cannot help.
        console.warn('the event was refused', event.type, response.status);
        if (response.status === 410) {
          ended();
        } else if (event.type === 'connect/memberConnected') {
          setStatus('error', 'We could not record the result. Start again from the app.');
        }
        done(null);
      },
      function () {
        retryLater(event, attempt, done, 0);
      }
    );
  }

  function retryLater(event, attempt, done, hintMs) {
    var backoff = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
    var delay = hintMs > 0 ? Math.min(hintMs, 60000) : backoff;
    if (attempt === 3) setStatus('retrying', 'Saving your connection is taking longer than usual…');
    setTimeout(function () { deliver(event, attempt + 1, done); }, delay);
  }

  window.addEventListener('message', function (event) {
    if (finished || widgetWindow === null || event.source !== widgetWindow || event.origin !== widgetOrigin) return;
    var message = event.data;
    if (!message || typeof message !== 'object' || Array.isArray(message)) return;
    if (typeof message.type !== 'string' || message.type.indexOf('connect/') !== 0) return;
    var metadata = message.metadata;
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return;
    relay({ type: message.type, metadata: metadata });
  });

  function startFrame() {
    var frame = document.getElementById('widget');
    widgetOrigin = new URL(data.widgetUrl).origin;
    widgetWindow = frame.contentWindow;
    frame.addEventListener('load', function () {
      if (statusEl.getAttribute('data-state') === 'loading') setStatus('ready', '');
    });
    frame.src = data.widgetUrl;
    frame.hidden = false;
  }

  function startPopup() {
    var button = document.getElementById('open-widget');
    var popup = null;
    var watcher = null;
    setStatus('ready', '');

    function reset(state, text) {
      if (watcher) clearInterval(watcher);
      watcher = null;
      widgetWindow = null;
      widgetOrigin = null;
      button.disabled = false;
      setStatus(state, text);
    }

    button.addEventListener('click', function () {
      if (popup && !popup.closed) {
        popup.focus();
        return;
      }
      // Opened synchronously inside the click: browsers block window.open outside a user gesture.
      // The widget URL is minted now, not at page load: UCW tokens are single use and expire.
      popup = window.open('about:blank', 'ucw-widget-' + data.sessionId, 'popup,width=480,height=720');
      popupWindow = popup;
      if (!popup) {
        setStatus('blocked', 'Your browser blocked the connection window. Allow pop-ups for this page and try again.');
        return;
      }
      try {
        popup.document.title = 'Connecting…';
        popup.document.body.textContent = 'Loading…';
      } catch (error) {
        // Not ours to write into (an existing window of that name): it is navigated below anyway.
      }
      widgetWindow = popup;
      button.disabled = true;
      setStatus('opening', 'Opening the connection window…');
      fetch(data.widgetUrlEndpoint, { method: 'POST', credentials: 'omit', cache: 'no-store' })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (answer) {
          if (popup.closed) {
            reset('closed', 'The connection window was closed.');
            return;
          }
          widgetOrigin = new URL(answer.url).origin;
          popup.location.replace(answer.url);
          setStatus('open', 'Continue in the connection window.');
          watcher = setInterval(function () {
            if (!popup.closed) return;
            if (finished) {
              clearInterval(watcher);
              return;
            }
            reset('closed', 'The connection window was closed. Open it again to continue.');
          }, 500);
        })
        .catch(function (error) {
          popup.close();
          var status = Number(error && error.message);
          reset(
            'error',
            status === 410
              ? 'This connect link has expired or is already used. Start again from the app.'
              : status === 429
                ? 'This connect link has been opened too many times. Start again from the app.'
                : 'Could not start the connection. Try again.'
          );
        });
    });
  }

  var stranger = framerMismatch();
  if (stranger) {
    setStatus('blocked', 'This page cannot be shown here.');
    showNotice('This page is embedded by ' + stranger + ', which is not the app that started this connection.');
    return;
  }
  if (data.presentation === 'iframe') startFrame();
  else startPopup();
})();`;

/** The error page's retry button reloads the page: each load mints a fresh widget URL. */
export const ERROR_PAGE_SCRIPT = String.raw`document.getElementById('retry').addEventListener('click', function () { window.location.reload(); });`;
