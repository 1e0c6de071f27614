/**
 * The demo page's script, inlined with the response's nonce. Plain browser JavaScript: it talks
 * to the BFF on its own origin (dev login, connections API) and uses `/connect.js` exactly as a
 * platform frontend would. Everything shown is written with textContent, never as HTML.
 */
export const DEMO_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var user = null;
  var handler = null;
  var pollTimer = null;

  function log(kind, text, detail) {
    var item = document.createElement('li');
    item.setAttribute('data-kind', kind);
    var time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    var label = document.createElement('strong');
    label.textContent = text;
    item.appendChild(time);
    item.appendChild(label);
    if (detail !== undefined) {
      var pre = document.createElement('code');
      pre.textContent = JSON.stringify(detail);
      item.appendChild(pre);
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
    user = userId;
    $('signed-out').hidden = !!userId;
    $('signed-in').hidden = !userId;
    $('connect-panel').hidden = !userId;
    $('connections-panel').hidden = !userId;
    $('current-user').textContent = userId || '';
    if (userId) loadConnections();
  }

  function checkbox(value) {
    var span = document.createElement('span');
    span.textContent = value ? 'yes' : 'no';
    span.className = value ? 'yes' : 'no';
    return span;
  }

  function cell(row, content) {
    var td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content === null || content === undefined ? '\u2014' : String(content);
    row.appendChild(td);
    return td;
  }

  function button(text, testId, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('data-testid', testId);
    b.addEventListener('click', onClick);
    return b;
  }

  function renderConnections(connections) {
    var body = $('connections-body');
    body.textContent = '';
    $('no-connections').hidden = connections.length > 0;
    connections.forEach(function (connection) {
      var row = document.createElement('tr');
      row.setAttribute('data-connection-id', connection.id);
      cell(row, connection.id);
      cell(row, connection.institutionId);
      cell(row, connection.aggregator);
      var status = cell(row, connection.status);
      status.setAttribute('data-status', connection.status);
      cell(row, checkbox(connection.verified));
      cell(row, checkbox(connection.dataReady));
      cell(row, connection.duplicateOf ? 'duplicate of ' + connection.duplicateOf : '');
      cell(row, connection.updatedAt ? new Date(connection.updatedAt).toLocaleString() : null);
      var actions = cell(row, '');
      if (connection.status !== 'deleted') {
        actions.appendChild(button('Refresh', 'refresh-' + connection.id, function (event) { connect(connection.id, event); }));
        actions.appendChild(button('Delete', 'delete-' + connection.id, function () { remove(connection.id); }));
      }
      body.appendChild(row);
    });
  }

  function loadConnections() {
    return api('GET', 'connections').then(
      function (answer) {
        renderConnections(answer.connections);
        return answer.connections;
      },
      function (error) {
        log('error', 'Could not load connections', { message: error.message });
        if (error.status === 401) setUser(null);
        return [];
      }
    );
  }

  // Verification and dataReady arrive after memberConnected; watch for a minute.
  function watch(connectionId) {
    if (pollTimer) clearInterval(pollTimer);
    var deadline = Date.now() + 60000;
    pollTimer = setInterval(function () {
      loadConnections().then(function (connections) {
        var found = connections.filter(function (c) { return c.id === connectionId; })[0];
        if ((found && found.dataReady) || Date.now() > deadline) {
          clearInterval(pollTimer);
          pollTimer = null;
        }
      });
    }, 2000);
  }

  function selectedJobTypes() {
    var boxes = document.querySelectorAll('input[name="jobTypes"]:checked');
    return Array.prototype.map.call(boxes, function (box) { return box.value; });
  }

  function connect(connectionId) {
    var jobTypes = selectedJobTypes();
    if (jobTypes.length === 0) {
      log('error', 'Pick at least one job type');
      return;
    }
    var presentation = document.querySelector('input[name="presentation"]:checked').value;
    var institutionId = $('institution-id').value.trim();
    if (handler) handler.destroy();
    var options = {
      // The directory this page is served from: works when the BFF sits under a path prefix.
      bffUrl: new URL('.', window.location.href).href,
      jobTypes: jobTypes,
      presentation: presentation,
      credentials: 'same-origin',
      onLoad: function (session) { log('sdk', 'session created', session); },
      onEvent: function (type, metadata) { log('event', type, metadata); },
      onSuccess: function (metadata) {
        log('success', 'onSuccess', metadata);
        loadConnections();
        if (metadata.connectionId) watch(metadata.connectionId);
      },
      onExit: function (error, metadata) {
        log(error ? 'error' : 'exit', 'onExit', { error: error, metadata: metadata });
        loadConnections();
      }
    };
    if (connectionId) options.connectionId = connectionId;
    else if (institutionId) options.institutionId = institutionId;
    handler = window.UcwConnect.create(options);
    // Still inside the click: a popup may open now.
    handler.open();
  }

  function remove(connectionId) {
    api('DELETE', 'connections/' + encodeURIComponent(connectionId)).then(
      function () {
        log('sdk', 'deleted', { connectionId: connectionId });
        loadConnections();
      },
      function (error) { log('error', 'Delete failed', { message: error.message }); }
    );
  }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var userId = $('user-id').value.trim();
    api('POST', 'dev/login', { userId: userId }).then(
      function (answer) {
        log('sdk', 'signed in', { userId: answer.userId });
        setUser(answer.userId);
      },
      function (error) { log('error', 'Sign-in failed', { message: error.message }); }
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
  $('clear-log').addEventListener('click', function () { $('event-log').textContent = ''; });

  if (!window.UcwConnect) {
    log('error', '/connect.js did not load');
    $('connect').disabled = true;
  }
  api('GET', 'me').then(
    function (answer) { setUser(answer.userId); },
    function () { setUser(null); }
  );
})();`;
