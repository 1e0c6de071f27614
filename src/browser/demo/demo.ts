/**
 * The demo page's script. It talks to the BFF on its own origin with the typed client (dev
 * login, connections API) and uses `/connect.js` exactly as a platform frontend would.
 * Everything shown is written with textContent, never as HTML.
 */
import type { CreateOptions, EventMetadata, ExitError, ExitMetadata, Handler, SessionInfo } from '../connect/ucw-connect.js';
import { byId } from '../lib/dom.js';
import { answer, ApiError, bff, type Connection } from './api.js';

const SIGNED_IN_HINT = 'ucw-bff-demo-signed-in';
let handler: Handler | null = null;
let pollTimer: ReturnType<typeof setInterval> | null = null;
let lastLine: string | null = null;
// The bank refused the details in the current attempt: the widget stays open for a correction
// (connect/memberError is not an end), so closing it afterwards is a cancelled attempt.
let refused = false;

// What each connection status means for the person looking at the page.
const EXPLAIN: Partial<Record<Connection['status'], string>> = {
  pending: 'The bank is still working on it.',
  needs_attention: 'The bank refused the sign-in details (or wants the person to sign in again). Use Refresh to try again.',
  error: 'The connection failed at the aggregator. Refresh to retry, or connect again.',
  disconnected: 'Closed at the bank. Connect again.',
  deleted: 'Deleted.',
};
const STATUS_TEXT: Record<Connection['status'], string> = {
  connected: 'connected',
  pending: 'pending',
  needs_attention: 'needs attention',
  error: 'error',
  disconnected: 'disconnected',
  deleted: 'deleted',
};

type FlowState = 'idle' | 'working' | 'success' | 'error' | 'attention' | 'cancelled';

function flow(state: FlowState, title = '', detail = ''): void {
  const box = byId('flow-status');
  box.hidden = state === 'idle';
  box.setAttribute('data-state', state);
  byId('flow-title').textContent = title;
  byId('flow-detail').textContent = detail;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function log(kind: string, text: string, detail?: unknown): void {
  // The same line twice in a row (a reload after an event) says nothing new.
  const key = kind + '|' + text + '|' + JSON.stringify(detail === undefined ? null : detail);
  if (key === lastLine) return;
  lastLine = key;
  const item = document.createElement('li');
  item.setAttribute('data-kind', kind);
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  const label = document.createElement('span');
  label.className = 'text';
  label.textContent = text;
  item.appendChild(time);
  item.appendChild(label);
  if (detail !== undefined) {
    const more = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'data';
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(detail, null, 2);
    more.appendChild(summary);
    more.appendChild(pre);
    item.appendChild(more);
  }
  const list = byId('event-log');
  list.insertBefore(item, list.firstChild);
}

function setUser(userId: string | null): void {
  byId('signed-out').hidden = !!userId;
  byId('signed-in').hidden = !userId;
  byId('connect-panel').hidden = !userId;
  byId('connections-panel').hidden = !userId;
  byId('current-user').textContent = userId ?? '';
  try {
    if (userId) sessionStorage.setItem(SIGNED_IN_HINT, '1');
    else sessionStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // Storage off: the page then asks /me only after a sign-in.
  }
  if (userId) void loadConnections();
  else flow('idle');
}

function check(value: boolean): HTMLElement {
  const span = document.createElement('span');
  span.className = 'check';
  span.setAttribute('data-on', value ? 'true' : 'false');
  span.textContent = value ? '\u2713 yes' : 'not yet';
  return span;
}

function cell(row: HTMLElement, label: string, content?: Node | string | null): HTMLElement {
  const td = document.createElement('td');
  if (label) td.setAttribute('data-label', label);
  if (content instanceof Node) td.appendChild(content);
  else if (content !== undefined) td.textContent = content === null ? '\u2014' : content;
  row.appendChild(td);
  return td;
}

function button(text: string, className: string, testId: string, onClick: (event: MouseEvent) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.setAttribute('data-testid', testId);
  b.addEventListener('click', onClick);
  return b;
}

function institutionCell(connection: Connection): HTMLElement {
  const wrap = document.createElement('div');
  const name = document.createElement('span');
  name.className = 'institution';
  name.textContent = (connection.institutionId || 'unknown institution') + ' \u00b7 ' + connection.aggregator;
  const id = document.createElement('span');
  id.className = 'id';
  id.title = connection.id;
  id.textContent = connection.id.slice(0, 13) + '\u2026' + (connection.duplicateOf ? ' (a second connection to this bank)' : '');
  wrap.appendChild(name);
  wrap.appendChild(id);
  return wrap;
}

function statusCell(connection: Connection): HTMLElement {
  const wrap = document.createElement('div');
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.setAttribute('data-status', connection.status);
  badge.textContent = STATUS_TEXT[connection.status] || connection.status;
  wrap.appendChild(badge);
  const note = EXPLAIN[connection.status] || (connection.status === 'connected' && !connection.dataReady ? 'Verifying with the UCW\u2026' : '');
  if (note) {
    const explain = document.createElement('span');
    explain.className = 'explain';
    explain.textContent = note;
    wrap.appendChild(explain);
  }
  return wrap;
}

function renderConnections(connections: Connection[]): void {
  const body = byId('connections-body');
  body.textContent = '';
  byId('no-connections').hidden = connections.length > 0;
  for (const connection of connections) {
    const row = document.createElement('tr');
    row.setAttribute('data-connection-id', connection.id);
    cell(row, '', institutionCell(connection));
    cell(row, 'Status', statusCell(connection));
    cell(row, 'Verified', check(connection.verified));
    cell(row, 'Data ready', check(connection.dataReady));
    cell(row, 'Updated', connection.updatedAt ? new Date(connection.updatedAt).toLocaleTimeString() : null);
    const actions = cell(row, '');
    actions.className = 'actions';
    if (connection.status !== 'deleted') {
      actions.appendChild(button('Refresh', 'secondary', 'refresh-' + connection.id, () => connect(connection.id)));
      actions.appendChild(
        button('Delete', 'danger', 'delete-' + connection.id, (event) => confirmDelete(event.currentTarget as HTMLButtonElement, connection)),
      );
    }
    body.appendChild(row);
  }
}

// Two clicks: the first arms the button, the second deletes; it disarms itself after 5 s.
function confirmDelete(target: HTMLButtonElement, connection: Connection): void {
  if (!target.hasAttribute('data-confirming')) {
    target.setAttribute('data-confirming', '');
    target.textContent = 'Click again to delete';
    setTimeout(() => {
      if (!target.isConnected) return;
      target.removeAttribute('data-confirming');
      target.textContent = 'Delete';
    }, 5000);
    return;
  }
  target.disabled = true;
  remove(connection);
}

function loadConnections(): Promise<Connection[]> {
  return answer(bff.GET('/connections')).then(
    (list) => {
      renderConnections(list.connections);
      return list.connections;
    },
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) setUser(null);
      else log('error', 'Could not load connections: ' + message(error));
      return [];
    },
  );
}

// Verification and dataReady arrive after memberConnected: watch until they do (a minute at most).
function watch(connectionId: string): void {
  if (pollTimer) clearInterval(pollTimer);
  const deadline = Date.now() + 60000;
  const stop = () => {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  };
  pollTimer = setInterval(() => {
    void loadConnections().then((connections) => {
      const found = connections.find((c) => c.id === connectionId);
      if (found && found.dataReady) {
        stop();
        log('success', 'Verified and data ready', { connectionId });
        flow('success', 'Connected, verified, data ready', 'Your backend can fetch this connection\u2019s data now (webhook connection.data_ready).');
      } else if (Date.now() > deadline) {
        stop();
      }
    });
  }, 1500);
}

function selectedJobTypes(): string[] {
  return Array.from(document.querySelectorAll<HTMLInputElement>('input[name="jobTypes"]:checked'), (box) => box.value);
}

function eventText(type: string, metadata: EventMetadata): string {
  const name = type.replace(/^connect\//, '');
  const where = metadata && metadata.institutionId ? ' (' + metadata.institutionId + ')' : '';
  switch (name) {
    case 'loaded':
      return 'Widget loaded';
    case 'selectedInstitution':
      return 'Widget: the user picked an institution';
    case 'memberStatusUpdate':
      return 'Widget: the aggregator is working' + where;
    case 'memberConnected':
      return 'Widget: connected' + where;
    case 'memberError':
      return 'Widget: the bank refused the sign-in' + where;
    default:
      return 'Widget: ' + name + where;
  }
}

function exited(error: ExitError | null, metadata: ExitMetadata): void {
  if (!error && refused) {
    log('exit', 'Closed by the user after the bank refused the details: cancelled', metadata);
    flow('cancelled', 'Not connected: cancelled',
      'The widget was closed after the bank refused the details, so the session is cancelled. The connection stays \u201cneeds attention\u201d: use Refresh to try again.');
  } else if (!error) {
    log('exit', 'Closed by the user: cancelled', metadata);
    flow('idle');
  } else if (error.type === 'session_ended') {
    const failed = error.metadata && error.metadata.status === 'failed';
    log('error', failed ? 'Session ended: failed' : 'Session ended: expired', error.metadata);
    flow('error', failed ? 'The connection did not succeed' : 'The session expired',
      failed ? 'The bank refused the details and the session ran out of time before they were corrected.' : 'The session ran out of time before anything was connected. Connect again.');
  } else {
    log('error', error.message || error.type, { error, metadata });
    flow('error', 'Could not start the connection', error.message || error.type);
  }
  void loadConnections();
}

function connect(connectionId: string | null): void {
  const jobTypes = selectedJobTypes();
  if (jobTypes.length === 0) {
    flow('error', 'Pick at least one job type', 'The widget needs to know which data to ask the bank for.');
    return;
  }
  const presentation = document.querySelector<HTMLInputElement>('input[name="presentation"]:checked')?.value === 'popup' ? 'popup' : 'modal';
  const institutionId = byId<HTMLInputElement>('institution-id').value.trim();
  if (handler) handler.destroy();
  refused = false;
  const options: CreateOptions = {
    // The directory this page is served from: works when the BFF sits under a path prefix.
    bffUrl: new URL('.', window.location.href).href,
    // Checkbox values: connect.js and the BFF check them.
    jobTypes: jobTypes as CreateOptions['jobTypes'],
    presentation,
    credentials: 'same-origin',
    onLoad(session: SessionInfo) {
      log('sdk', session.mode === 'refresh' ? 'Refresh session created' : 'Connect session created', session);
      flow('working', presentation === 'popup' ? 'Continue in the connection window' : 'Connecting\u2026',
        presentation === 'popup' ? 'The widget opened in a separate window. Finish there; this page updates by itself.' : 'Pick a bank in the window above and sign in.');
    },
    onEvent(type, metadata) {
      log('event', eventText(type, metadata), metadata);
      if (type === 'connect/memberError') {
        refused = true;
        flow('attention', 'The bank refused these details',
          'Correct them in the widget and try again, or close the widget to cancel. The connection is marked \u201cneeds attention\u201d meanwhile.');
        void loadConnections();
      } else if (type === 'connect/memberStatusUpdate' && refused) {
        flow('working', 'Connecting\u2026', 'Trying the corrected details.');
      }
    },
    onSuccess(metadata) {
      const where = metadata.institutionId ? ' to ' + metadata.institutionId : '';
      log('success', 'Connected' + where, metadata);
      flow('success', 'Connected' + where, 'Verifying the connection with the UCW\u2026 (Verified and Data ready follow in a moment.)');
      void loadConnections();
      if (metadata.connectionId) watch(metadata.connectionId);
    },
    onExit: exited,
  };
  if (connectionId) options.connectionId = connectionId;
  else if (institutionId) options.institutionId = institutionId;
  handler = window.UcwConnect.create(options);
  // Still inside the click: a popup may open now.
  handler.open();
}

function remove(connection: Connection): void {
  answer(bff.DELETE('/connections/{id}', { params: { path: { id: connection.id } } })).then(
    () => {
      log('sdk', 'Deleted ' + (connection.institutionId || connection.id), { connectionId: connection.id });
      flow('idle');
      void loadConnections();
    },
    (error: unknown) => log('error', 'Delete failed: ' + message(error)),
  );
}

byId('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = byId<HTMLInputElement>('user-id').value.trim();
  answer(bff.POST('/dev/login', { body: { userId } })).then(
    (signedIn) => {
      log('sdk', 'Signed in as ' + signedIn.userId);
      setUser(signedIn.userId);
    },
    (error: unknown) => flow('error', 'Sign-in failed', message(error)),
  );
});
byId('logout').addEventListener('click', () => {
  void answer(bff.POST('/dev/logout')).then(() => {
    if (handler) handler.destroy();
    setUser(null);
  });
});
byId('connect').addEventListener('click', () => connect(null));
byId('refresh-list').addEventListener('click', () => void loadConnections());
byId('clear-log').addEventListener('click', () => {
  byId('event-log').textContent = '';
  lastLine = null;
});

if (!window.UcwConnect) {
  flow('error', '/connect.js did not load', 'Check that the BFF serves /connect.js.');
  byId<HTMLButtonElement>('connect').disabled = true;
}
// Ask who is signed in only when this tab signed someone in: a signed-out page makes no
// request that fails (a 401 would show as an error in the browser console).
let hinted = false;
try {
  hinted = sessionStorage.getItem(SIGNED_IN_HINT) === '1';
} catch {
  hinted = false;
}
if (hinted) {
  answer(bff.GET('/me')).then(
    (me) => setUser(me.userId),
    () => setUser(null),
  );
} else {
  setUser(null);
}
