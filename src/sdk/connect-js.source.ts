/**
 * The drop-in browser script served at `GET /connect.js`: plain ES2018, no dependencies, no
 * build step. Kept as a string in a TS module so it ships with `tsc` output (tsc copies no
 * other files) and is found the same way under tsx and from `dist/`.
 *
 * The one placeholder, `__UCW_CONNECT_DEFAULT_BFF_URL__`, is replaced by `renderConnectJs` with
 * the BFF's public URL as a JSON string literal.
 */
export const CONNECT_JS_TEMPLATE = String.raw`/*! UcwConnect: drop-in script for the ucw-bff connect flow. Types: /connect.d.ts */
(function (global) {
  'use strict';

  var VERSION = '1.0.0';
  var DEFAULT_BFF_URL = __UCW_CONNECT_DEFAULT_BFF_URL__;
  var PRESENTATIONS = ['auto', 'modal', 'popup'];
  var POPUP_FEATURES = 'popup,width=500,height=760';
  var OVERLAY_Z_INDEX = '2147483000';

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  function stringOrNull(value) {
    return typeof value === 'string' ? value : null;
  }

  function setStyles(element, styles) {
    Object.keys(styles).forEach(function (name) {
      // CSSOM writes, not style attributes: allowed under a strict style-src CSP.
      element.style.setProperty(name, styles[name]);
    });
  }

  // A throwing callback must not leave the handler half torn down; report it and carry on.
  function call(callback, args) {
    if (typeof callback !== 'function') return;
    try {
      callback.apply(null, args);
    } catch (error) {
      setTimeout(function () { throw error; }, 0);
    }
  }

  // Only the fields the BFF forwards; nothing else a message might carry is passed on.
  function eventMetadata(metadata) {
    var result = {
      sessionId: metadata.sessionId,
      connectionId: stringOrNull(metadata.connectionId),
      aggregator: stringOrNull(metadata.aggregator),
      institutionId: stringOrNull(metadata.institutionId),
      status: stringOrNull(metadata.status)
    };
    if (isObject(metadata.error)) {
      result.error = { statusCode: typeof metadata.error.statusCode === 'number' ? metadata.error.statusCode : null };
    }
    return result;
  }

  function validateOptions(options) {
    if (!isObject(options)) throw new TypeError('UcwConnect.create: options must be an object');
    var jobTypes = options.jobTypes;
    var listed = Array.isArray(jobTypes) ? jobTypes.length > 0 : typeof jobTypes === 'string' && jobTypes.length > 0;
    if (!listed) throw new TypeError('UcwConnect.create: jobTypes must name at least one job type');
    var presentation = options.presentation === undefined ? 'auto' : options.presentation;
    if (PRESENTATIONS.indexOf(presentation) < 0) {
      throw new TypeError('UcwConnect.create: presentation must be one of ' + PRESENTATIONS.join(', '));
    }
    ['onSuccess', 'onExit', 'onEvent', 'onLoad', 'getAuthHeaders'].forEach(function (name) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw new TypeError('UcwConnect.create: ' + name + ' must be a function');
      }
    });
    var base = options.bffUrl === undefined ? DEFAULT_BFF_URL : options.bffUrl;
    var bffUrl;
    try {
      bffUrl = new URL(String(base), global.location.href);
    } catch (error) {
      throw new TypeError('UcwConnect.create: bffUrl is not a valid URL');
    }
    if (bffUrl.protocol !== 'https:' && bffUrl.protocol !== 'http:') {
      throw new TypeError('UcwConnect.create: bffUrl must be an http(s) URL');
    }
    return {
      // Keeps a path prefix (a BFF mounted under /bff) and drops a trailing slash.
      endpoint: bffUrl.origin + bffUrl.pathname.replace(/\/+$/, '') + '/connect-url',
      presentation: presentation === 'popup' ? 'popup' : 'modal'
    };
  }

  function requestBody(options) {
    var body = { jobTypes: options.jobTypes };
    if (options.institutionId !== undefined) body.institutionId = options.institutionId;
    if (options.connectionId !== undefined) body.connectionId = options.connectionId;
    if (options.singleAccountSelect !== undefined) body.singleAccountSelect = options.singleAccountSelect;
    // Explicit, so a frontend whose origin the BFF does not allow gets a clear 400 instead of
    // a session that silently never reports back.
    body.targetOrigin = global.location.origin;
    return body;
  }

  function problemOf(response) {
    return response.text().then(
      function (text) {
        try {
          var parsed = JSON.parse(text);
          return isObject(parsed) ? parsed : null;
        } catch (error) {
          return null;
        }
      },
      function () { return null; }
    );
  }

  function requestFailed(status, problem, message) {
    return { type: 'request_failed', status: status, problem: problem, message: message };
  }

  function create(options) {
    var settings = validateOptions(options);
    var destroyed = false;
    var current = null; // the open attempt: one at a time per handler

    function exitMetadata(attempt) {
      if (attempt.lastMetadata) return attempt.lastMetadata;
      return { sessionId: attempt.sessionId, connectionId: null, aggregator: null, institutionId: null, status: null };
    }

    function teardown(attempt) {
      if (attempt.closed) return;
      attempt.closed = true;
      if (current === attempt) current = null;
      if (attempt.watcher) clearInterval(attempt.watcher);
      if (attempt.keydown) global.document.removeEventListener('keydown', attempt.keydown, true);
      if (attempt.overlay && attempt.overlay.parentNode) attempt.overlay.parentNode.removeChild(attempt.overlay);
      if (attempt.overlay) global.document.documentElement.style.setProperty('overflow', attempt.savedOverflow);
      if (attempt.popup && !attempt.popup.closed) {
        try {
          attempt.popup.close();
        } catch (error) {
          // Already gone.
        }
      }
      if (attempt.restoreFocus && typeof attempt.restoreFocus.focus === 'function') {
        try {
          attempt.restoreFocus.focus();
        } catch (error) {
          // The element left the page.
        }
      }
    }

    function exit(attempt, error) {
      if (attempt.closed) return;
      var metadata = exitMetadata(attempt);
      teardown(attempt);
      if (!destroyed) call(options.onExit, [error, metadata]);
    }

    // The person closed the modal or the popup: the BFF records the session as cancelled, so its
    // SSE stream and GET /connect-sessions/:id agree with onExit. The host page URL is the
    // session capability; a simple no-cors POST needs no CORS answer.
    function cancelled(attempt) {
      if (attempt.closed) return;
      if (attempt.cancelUrl) {
        try {
          global.fetch(attempt.cancelUrl, { method: 'POST', mode: 'no-cors', credentials: 'omit', keepalive: true }).catch(function () {});
        } catch (error) {
          // Best effort: the session still ends at its expiry.
        }
      }
      exit(attempt, null);
    }

    function onMessage(event) {
      var attempt = current;
      if (!attempt || !attempt.sessionId || !attempt.target) return;
      if (event.origin !== attempt.origin || event.source !== attempt.target) return;
      var data = event.data;
      if (!isObject(data) || typeof data.type !== 'string' || data.type.indexOf('connect/') !== 0) return;
      if (!isObject(data.metadata) || data.metadata.sessionId !== attempt.sessionId) return;
      var metadata = eventMetadata(data.metadata);
      attempt.lastMetadata = metadata;
      call(options.onEvent, [data.type, metadata]);
      // connect/memberError is not an end: the widget keeps its form live for a correction.
      if (data.type === 'connect/memberConnected') {
        teardown(attempt);
        call(options.onSuccess, [metadata]);
      } else if (data.type === 'connect/cancelled') {
        exit(attempt, null);
      } else if (data.type === 'connect/expired') {
        exit(attempt, { type: 'session_ended', metadata: metadata });
      }
    }

    function buildModal(attempt) {
      var doc = global.document;
      var overlay = doc.createElement('div');
      overlay.setAttribute('data-ucw-connect', 'overlay');
      setStyles(overlay, {
        position: 'fixed', top: '0', right: '0', bottom: '0', left: '0', 'z-index': OVERLAY_Z_INDEX,
        display: 'flex', 'align-items': 'center', 'justify-content': 'center',
        background: 'rgba(17, 24, 39, 0.55)', margin: '0', padding: '0'
      });

      var dialog = doc.createElement('div');
      dialog.setAttribute('role', 'dialog');
      dialog.setAttribute('aria-modal', 'true');
      dialog.setAttribute('aria-label', 'Connect an account');
      setStyles(dialog, {
        display: 'flex', 'flex-direction': 'column', width: '100%', 'max-width': '480px', height: '100%',
        'max-height': '760px', background: '#fff', 'border-radius': '12px', overflow: 'hidden',
        'box-shadow': '0 20px 60px rgba(0, 0, 0, 0.3)', 'box-sizing': 'border-box'
      });

      var bar = doc.createElement('div');
      setStyles(bar, {
        display: 'flex', 'align-items': 'center', 'justify-content': 'space-between', padding: '6px 8px 6px 16px',
        'border-bottom': '1px solid #e5e7eb', font: '14px system-ui, -apple-system, sans-serif', color: '#374151'
      });
      var title = doc.createElement('span');
      title.textContent = 'Connect an account';
      var close = doc.createElement('button');
      close.type = 'button';
      close.textContent = '\u00d7';
      close.setAttribute('aria-label', 'Close');
      close.setAttribute('data-ucw-connect', 'close');
      setStyles(close, {
        border: '0', background: 'transparent', 'font-size': '24px', 'line-height': '1', cursor: 'pointer',
        padding: '4px 8px', color: '#374151'
      });
      close.addEventListener('click', function () { cancelled(attempt); });
      bar.appendChild(title);
      bar.appendChild(close);

      var loading = doc.createElement('div');
      loading.textContent = 'Loading\u2026';
      setStyles(loading, { padding: '24px', font: '14px system-ui, -apple-system, sans-serif', color: '#6b7280' });

      var frame = doc.createElement('iframe');
      frame.setAttribute('title', 'Connect an account');
      frame.setAttribute('data-ucw-connect', 'frame');
      setStyles(frame, { flex: '1', width: '100%', border: '0', display: 'none' });
      frame.addEventListener('load', function () {
        if (!frame.src) return;
        loading.style.setProperty('display', 'none');
        frame.style.setProperty('display', 'block');
      });

      dialog.appendChild(bar);
      dialog.appendChild(loading);
      dialog.appendChild(frame);
      overlay.appendChild(dialog);

      attempt.keydown = function (event) {
        if (event.key === 'Escape' || event.key === 'Esc') cancelled(attempt);
      };
      doc.addEventListener('keydown', attempt.keydown, true);
      attempt.restoreFocus = doc.activeElement;
      attempt.savedOverflow = doc.documentElement.style.getPropertyValue('overflow');
      doc.documentElement.style.setProperty('overflow', 'hidden');
      doc.body.appendChild(overlay);
      close.focus();

      attempt.overlay = overlay;
      attempt.frame = frame;
      // The iframe's WindowProxy survives navigation, so it identifies the host page's messages.
      attempt.target = frame.contentWindow;
    }

    function openPopup(attempt) {
      // Synchronously inside the caller's click: a window opened after an await is blocked.
      var popup = global.open('about:blank', '_blank', POPUP_FEATURES);
      if (!popup) return false;
      try {
        popup.document.title = 'Connecting\u2026';
        popup.document.body.textContent = 'Loading\u2026';
      } catch (error) {
        // Not writable: it is navigated to the host page anyway.
      }
      attempt.popup = popup;
      attempt.target = popup;
      attempt.watcher = setInterval(function () {
        if (popup.closed) cancelled(attempt);
      }, 400);
      return true;
    }

    function show(attempt, url) {
      if (attempt.popup) {
        attempt.popup.location.replace(url);
        try {
          attempt.popup.focus();
        } catch (error) {
          // Some browsers refuse focus changes; harmless.
        }
      } else {
        attempt.frame.src = url;
      }
    }

    function start(attempt) {
      Promise.resolve()
        .then(function () {
          return typeof options.getAuthHeaders === 'function' ? options.getAuthHeaders() : {};
        })
        .then(
          function (authHeaders) {
            if (attempt.closed) return null;
            var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
            if (isObject(authHeaders)) {
              Object.keys(authHeaders).forEach(function (name) { headers[name] = String(authHeaders[name]); });
            }
            return global.fetch(settings.endpoint, {
              method: 'POST',
              headers: headers,
              body: JSON.stringify(requestBody(options)),
              credentials: options.credentials === undefined ? 'include' : options.credentials,
              cache: 'no-store'
            }).then(
              function (response) { return answered(attempt, response); },
              function (error) {
                // A browser says only "Failed to fetch" for a CORS refusal, the commonest cause.
                exit(attempt, requestFailed(0, null,
                  'Could not reach the connect service at ' + settings.endpoint + ' (' + (error && error.message ? error.message : String(error)) + '). ' +
                  'If it is running, this page\'s origin (' + global.location.origin + ') may not be in its ALLOWED_ORIGINS.'));
              }
            );
          },
          function (error) {
            exit(attempt, requestFailed(0, null, 'getAuthHeaders failed: ' + (error && error.message ? error.message : String(error))));
          }
        );
    }

    function answered(attempt, response) {
      if (attempt.closed) return null;
      if (!response.ok) {
        return problemOf(response).then(function (problem) {
          var detail = problem && typeof problem.detail === 'string' ? ': ' + problem.detail : '';
          exit(attempt, requestFailed(response.status, problem, 'The connect service answered ' + response.status + detail));
        });
      }
      return response.json().then(
        function (session) {
          if (attempt.closed) return;
          var url = null;
          try {
            url = isObject(session) && typeof session.url === 'string' ? new URL(session.url) : null;
          } catch (error) {
            url = null;
          }
          if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || typeof session.sessionId !== 'string') {
            exit(attempt, requestFailed(response.status, null, 'The connect service answered without a usable connect URL'));
            return;
          }
          attempt.sessionId = session.sessionId;
          attempt.origin = url.origin;
          attempt.cancelUrl = url.origin + url.pathname.replace(/\/+$/, '') + '/cancel' + url.search;
          call(options.onLoad, [{
            sessionId: session.sessionId,
            mode: stringOrNull(session.mode),
            expiresAt: stringOrNull(session.expiresAt),
            existingConnectionId: stringOrNull(session.existingConnectionId)
          }]);
          if (attempt.closed) return;
          if (attempt.popup && attempt.popup.closed) {
            exit(attempt, null);
            return;
          }
          show(attempt, url.href);
        },
        function () {
          exit(attempt, requestFailed(response.status, null, 'The connect service answered with unreadable JSON'));
        }
      );
    }

    global.addEventListener('message', onMessage);

    return {
      open: function () {
        if (destroyed) throw new Error('UcwConnect: open() after destroy()');
        if (current) {
          // Already open: bring it forward instead of starting a second session.
          if (current.popup && !current.popup.closed) current.popup.focus();
          return;
        }
        var attempt = {
          closed: false, sessionId: null, origin: null, cancelUrl: null, target: null, lastMetadata: null,
          popup: null, frame: null, overlay: null, watcher: null, keydown: null, restoreFocus: null, savedOverflow: ''
        };
        current = attempt;
        if (settings.presentation === 'popup') {
          if (!openPopup(attempt)) {
            exit(attempt, {
              type: 'popup_blocked',
              status: 0,
              problem: null,
              message: 'The browser blocked the connect window. Call open() directly from a click handler, or allow pop-ups.'
            });
            return;
          }
        } else {
          buildModal(attempt);
        }
        start(attempt);
      },
      destroy: function () {
        if (destroyed) return;
        destroyed = true;
        if (current) teardown(current);
        global.removeEventListener('message', onMessage);
      }
    };
  }

  global.UcwConnect = { version: VERSION, create: create };
})(window);
`;

/**
 * JSON that can sit inside script source: no `</script>` (or any `<`), no U+2028/2029, which
 * older engines treat as line terminators inside string literals.
 */
const jsonForScript = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The script with the BFF's public URL as the default `bffUrl`. */
export function renderConnectJs(publicUrl: string): string {
  return CONNECT_JS_TEMPLATE.replace('__UCW_CONNECT_DEFAULT_BFF_URL__', jsonForScript(publicUrl));
}
