/**
 * The demo page's script, inlined with the response's nonce. Plain browser JavaScript: it talks
 * to the BFF on its own origin (dev login, connections API) and uses `/connect.js` exactly as a
 * platform frontend would. Everything shown is written with textContent, never as HTML.
 */
export const DEMO_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var SIGNED_IN_HINT = 'ucw-bff-demo-signed-in';
  var handler = null;
  var pollTimer = null;
  var lastLine = null;
  // The bank refused the details in the current attempt: the widget stays open for a correction
  // (connect/memberError is not an end), so closing it afterwards is a cancelled attempt.
  var refused = false;

  // What each connection status means for the person looking at the page.
  var EXPLAIN = {
    pending: 'The bank is still working on it.',
    needs_attention: 'The bank refused the sign-in details (or wants the person to sign in again). Use Refresh to try again.',
    error: 'The connection failed at the aggregator. Refresh to retry, or connect again.',
    disconnected: 'Closed at the bank. Connect again.',
    deleted: 'Deleted.'
  };
  var STATUS_TEXT = { connected: 'connected', pending: 'pending', needs_attention: 'needs attention', error: 'error', disconnected: 'disconnected', deleted: 'deleted' };

  function flow(state, title, detail) {
    var box = $('flow-status');
    box.hidden = state === 'idle';
    box.setAttribute('data-state', state);
    $('flow-title').textContent = title || '';
    $('flow-detail').textContent = detail || '';
  }

  function log(kind, text, detail) {
    // The same line twice in a row (a reload after an event) says nothing new.
    var key = kind + '|' + text + '|' + JSON.stringify(detail === undefined ? null : detail);
    if (key === lastLine) return;
    lastLine = key;
    var item = document.createElement('li');
    item.setAttribute('data-kind', kind);
    var time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    var label = document.createElement('span');
    label.className = 'text';
    label.textContent = text;
    item.appendChild(time);
    item.appendChild(label);
    if (detail !== undefined) {
      var more = document.createElement('details');
      var summary = document.createElement('summary');
      summary.textContent = 'data';
      var pre = document.createElement('pre');
      pre.textContent = JSON.stringify(detail, null, 2);
      more.appendChild(summary);
      more.appendChild(pre);
      item.appendChild(more);
    }
    var list = $('event-log');
    list.insertBefore(item, list.firstChild);
  }

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(
        function (json) {
          if (!response.ok) throw Object.assign(new Error((json && (json.detail || json.title)) || String(response.status)), { status: response.status });
          return json;
        },
        function () {
          if (!response.ok) throw Object.assign(new Error(String(response.status)), { status: response.status });
          return null;
        }
      );
    });
  }

  function setUser(userId) {
    $('signed-out').hidden = !!userId;
    $('signed-in').hidden = !userId;
    $('connect-panel').hidden = !userId;
    $('connections-panel').hidden = !userId;
    $('current-user').textContent = userId || '';
    try {
      if (userId) sessionStorage.setItem(SIGNED_IN_HINT, '1');
      else sessionStorage.removeItem(SIGNED_IN_HINT);
    } catch (error) {
      // Storage off: the page then asks /me only after a sign-in.
    }
    if (userId) loadConnections();
    else flow('idle');
  }

  function check(value) {
    var span = document.createElement('span');
    span.className = 'check';
    span.setAttribute('data-on', value ? 'true' : 'false');
    span.textContent = value ? '\u2713 yes' : 'not yet';
    return span;
  }

  function cell(row, label, content) {
    var td = document.createElement('td');
    if (label) td.setAttribute('data-label', label);
    if (content instanceof Node) td.appendChild(content);
    else if (content !== undefined) td.textContent = content === null ? '\u2014' : String(content);
    row.appendChild(td);
    return td;
  }

  function button(text, className, testId, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = text;
    b.setAttribute('data-testid', testId);
    b.addEventListener('click', onClick);
    return b;
  }

  function institutionCell(connection) {
    var wrap = document.createElement('div');
    var name = document.createElement('span');
    name.className = 'institution';
    name.textContent = (connection.institutionId || 'unknown institution') + ' \u00b7 ' + connection.aggregator;
    var id = document.createElement('span');
    id.className = 'id';
    id.title = connection.id;
    id.textContent = connection.id.slice(0, 13) + '\u2026' + (connection.duplicateOf ? ' (a second connection to this bank)' : '');
    wrap.appendChild(name);
    wrap.appendChild(id);
    return wrap;
  }

  function statusCell(connection) {
    var wrap = document.createElement('div');
    var badge = document.createElement('span');
    badge.className = 'badge';
    badge.setAttribute('data-status', connection.status);
    badge.textContent = STATUS_TEXT[connection.status] || connection.status;
    wrap.appendChild(badge);
    var note = EXPLAIN[connection.status] || (connection.status === 'connected' && !connection.dataReady ? 'Verifying with the UCW\u2026' : '');
    if (note) {
      var explain = document.createElement('span');
      explain.className = 'explain';
      explain.textContent = note;
      wrap.appendChild(explain);
    }
    return wrap;
  }

  function renderConnections(connections) {
    var body = $('connections-body');
    body.textContent = '';
    $('no-connections').hidden = connections.length > 0;
    connections.forEach(function (connection) {
      var row = document.createElement('tr');
      row.setAttribute('data-connection-id', connection.id);
      cell(row, '', institutionCell(connection));
      cell(row, 'Status', statusCell(connection));
      cell(row, 'Verified', check(connection.verified));
      cell(row, 'Data ready', check(connection.dataReady));
      cell(row, 'Updated', connection.updatedAt ? new Date(connection.updatedAt).toLocaleTimeString() : null);
      var actions = cell(row, '');
      actions.className = 'actions';
      if (connection.status !== 'deleted') {
        actions.appendChild(button('Refresh', 'secondary', 'refresh-' + connection.id, function () { connect(connection.id); }));
        actions.appendChild(button('Delete', 'danger', 'delete-' + connection.id, function (event) { confirmDelete(event.currentTarget, connection); }));
      }
      body.appendChild(row);
    });
  }

  // Two clicks: the first arms the button, the second deletes; it disarms itself after 5 s.
  function confirmDelete(target, connection) {
    if (!target.hasAttribute('data-confirming')) {
      target.setAttribute('data-confirming', '');
      target.textContent = 'Click again to delete';
      setTimeout(function () {
        if (!target.isConnected) return;
        target.removeAttribute('data-confirming');
        target.textContent = 'Delete';
      }, 5000);
      return;
    }
    target.disabled = true;
    remove(connection);
  }

  function loadConnections() {
    return api('GET', 'connections').then(
      function (answer) {
        renderConnections(answer.connections);
        return answer.connections;
      },
      function (error) {
        if (error.status === 401) setUser(null);
        else log('error', 'Could not load connections: ' + error.message);
        return [];
      }
    );
  }

  // Verification and dataReady arrive after memberConnected: watch until they do (a minute at most).
  function watch(connectionId) {
    if (pollTimer) clearInterval(pollTimer);
    var deadline = Date.now() + 60000;
    var tick = function () {
      loadConnections().then(function (connections) {
        var found = connections.filter(function (c) { return c.id === connectionId; })[0];
        if (found && found.dataReady) {
          clearInterval(pollTimer);
          pollTimer = null;
          log('success', 'Verified and data ready', { connectionId: connectionId });
          flow('success', 'Connected, verified, data ready', 'Your backend can fetch this connection\u2019s data now (webhook connection.data_ready).');
        } else if (Date.now() > deadline) {
          clearInterval(pollTimer);
          pollTimer = null;
        }
      });
    };
    pollTimer = setInterval(tick, 1500);
  }

  function selectedJobTypes() {
    var boxes = document.querySelectorAll('input[name="jobTypes"]:checked');
    return Array.prototype.map.call(boxes, function (box) { return box.value; });
  }

  function eventText(type, metadata) {
    var name = type.replace(/^connect\//, '');
    var where = metadata && metadata.institutionId ? ' (' + metadata.institutionId + ')' : '';
    switch (name) {
      case 'loaded': return 'Widget loaded';
      case 'selectedInstitution': return 'Widget: the user picked an institution';
      case 'memberStatusUpdate': return 'Widget: the aggregator is working' + where;
      case 'memberConnected': return 'Widget: connected' + where;
      case 'memberError': return 'Widget: the bank refused the sign-in' + where;
      default: return 'Widget: ' + name + where;
    }
  }

  function connect(connectionId) {
    var jobTypes = selectedJobTypes();
    if (jobTypes.length === 0) {
      flow('error', 'Pick at least one job type', 'The widget needs to know which data to ask the bank for.');
      return;
    }
    var presentation = document.querySelector('input[name="presentation"]:checked').value;
    var institutionId = $('institution-id').value.trim();
    if (handler) handler.destroy();
    refused = false;
    var options = {
      // The directory this page is served from: works when the BFF sits under a path prefix.
      bffUrl: new URL('.', window.location.href).href,
      jobTypes: jobTypes,
      presentation: presentation,
      credentials: 'same-origin',
      onLoad: function (session) {
        log('sdk', session.mode === 'refresh' ? 'Refresh session created' : 'Connect session created', session);
        flow('working', presentation === 'popup' ? 'Continue in the connection window' : 'Connecting\u2026',
          presentation === 'popup' ? 'The widget opened in a separate window. Finish there; this page updates by itself.' : 'Pick a bank in the window above and sign in.');
      },
      onEvent: function (type, metadata) {
        log('event', eventText(type, metadata), metadata);
        if (type === 'connect/memberError') {
          refused = true;
          flow('attention', 'The bank refused these details',
            'Correct them in the widget and try again, or close the widget to cancel. The connection is marked \u201cneeds attention\u201d meanwhile.');
          loadConnections();
        } else if (type === 'connect/memberStatusUpdate' && refused) {
          flow('working', 'Connecting\u2026', 'Trying the corrected details.');
        }
      },
      onSuccess: function (metadata) {
        log('success', 'Connected' + (metadata.institutionId ? ' to ' + metadata.institutionId : ''), metadata);
        flow('success', 'Connected' + (metadata.institutionId ? ' to ' + metadata.institutionId : ''), 'Verifying the connection with the UCW\u2026 (Verified and Data ready follow in a moment.)');
        loadConnections();
        if (metadata.connectionId) watch(metadata.connectionId);
      },
      onExit: function (error, metadata) {
        if (!error && refused) {
          log('exit', 'Closed by the user after the bank refused the details: cancelled', metadata);
          flow('cancelled', 'Not connected: cancelled',
            'The widget was closed after the bank refused the details, so the session is cancelled. The connection stays \u201cneeds attention\u201d: use Refresh to try again.');
        } else if (!error) {
          log('exit', 'Closed by the user: cancelled', metadata);
          flow('idle');
        } else if (error.type === 'session_ended') {
          var failed = error.metadata && error.metadata.status === 'failed';
          log('error', failed ? 'Session ended: failed' : 'Session ended: expired', error.metadata);
          flow('error', failed ? 'The connection did not succeed' : 'The session expired',
            failed ? 'The bank refused the details and the session ran out of time before they were corrected.' : 'The session ran out of time before anything was connected. Connect again.');
        } else {
          log('error', error.message || error.type, { error: error, metadata: metadata });
          flow('error', 'Could not start the connection', error.message || error.type);
        }
        loadConnections();
      }
    };
    if (connectionId) options.connectionId = connectionId;
    else if (institutionId) options.institutionId = institutionId;
    handler = window.UcwConnect.create(options);
    // Still inside the click: a popup may open now.
    handler.open();
  }

  function remove(connection) {
    api('DELETE', 'connections/' + encodeURIComponent(connection.id)).then(
      function () {
        log('sdk', 'Deleted ' + (connection.institutionId || connection.id), { connectionId: connection.id });
        flow('idle');
        loadConnections();
      },
      function (error) { log('error', 'Delete failed: ' + error.message); }
    );
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var userId = $('user-id').value.trim();
    api('POST', 'dev/login', { userId: userId }).then(
      function (answer) {
        log('sdk', 'Signed in as ' + answer.userId);
        setUser(answer.userId);
      },
      function (error) { flow('error', 'Sign-in failed', error.message); }
    );
  });
  $('logout').addEventListener('click', function () {
    api('POST', 'dev/logout').then(function () {
      if (handler) handler.destroy();
      setUser(null);
    });
  });
  $('connect').addEventListener('click', function () { connect(null); });
  $('refresh-list').addEventListener('click', function () { loadConnections(); });
  $('clear-log').addEventListener('click', function () { $('event-log').textContent = ''; lastLine = null; });

  if (!window.UcwConnect) {
    flow('error', '/connect.js did not load', 'Check that the BFF serves /connect.js.');
    $('connect').disabled = true;
  }
  // Ask who is signed in only when this tab signed someone in: a signed-out page makes no
  // request that fails (a 401 would show as an error in the browser console).
  var hinted = false;
  try { hinted = sessionStorage.getItem(SIGNED_IN_HINT) === '1'; } catch (error) { hinted = false; }
  if (hinted) {
    api('GET', 'me').then(
      function (answer) { setUser(answer.userId); },
      function () { setUser(null); }
    );
  } else {
    setUser(null);
  }
})();`;
