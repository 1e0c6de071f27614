/**
 * The simulated widget page's script (src/sandbox/sandbox-widget-page.ts). It holds no
 * parameters: it reads its session id from `#widget[data-session]` and asks the simulator's API
 * for everything (with the `authorizationToken` cookie), so a browser that refuses the
 * SameSite=Strict cookie (a cross-site iframe) gets a 401 at load, shows "Something went wrong"
 * and posts nothing: the real UCW's failure mode.
 */
import { byId } from '../lib/dom.js';

interface WidgetEvent {
  type: string;
  metadata: unknown;
}
interface Institution {
  id: string;
  name: string;
  selectedEvent: WidgetEvent;
}
/** `GET /api/sim/sessions/:id` (sessionView in sandbox-widget.routes.ts). */
interface SessionConfig {
  targetOrigin: string;
  loadedEvent: WidgetEvent;
  preselected: { id: string; name: string } | null;
  institutions: Institution[];
}
/** `POST /api/sim/sessions/:id/connect`. */
interface ConnectResult {
  outcome: 'connected' | 'denied' | 'retry';
  message: string;
  events: WidgetEvent[];
}

const sessionId = byId('widget').getAttribute('data-session') ?? '';
const view = byId('view');
const statusEl = document.querySelector('[data-testid="widget-status"]') as HTMLElement;
const base = '/api/sim/sessions/' + encodeURIComponent(sessionId);
let config: SessionConfig | null = null;
let step = 'loading';

function setStatus(state: string, text: string): void {
  statusEl.setAttribute('data-state', state);
  statusEl.textContent = text;
}

// To the framing page and to the opener (popup), with the widget's targetOrigin, like the UCW.
function post(event: WidgetEvent): void {
  const targets: Window[] = [];
  if (window.parent && window.parent !== window) targets.push(window.parent);
  if (window.opener) targets.push(window.opener as Window);
  for (const target of targets) {
    try {
      target.postMessage({ type: event.type, metadata: event.metadata }, config?.targetOrigin ?? '/');
    } catch (error) {
      console.warn('postMessage failed', error);
    }
  }
}

function api<T>(method: string, path: string, body?: object): Promise<T> {
  return fetch(base + path, {
    method,
    credentials: 'include',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).then((response) => {
    if (!response.ok) throw new Error('HTTP ' + response.status);
    return response.json() as Promise<T>;
  });
}

function fail(error: unknown): void {
  console.warn('sandbox widget error', error);
  view.replaceChildren();
  setStatus('error', 'Something went wrong');
}

function el(tag: string, attributes: Record<string, string>, text?: string): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function goTo(next: string): void {
  if (step !== 'loading' && step !== next) post({ type: 'connect/stepChange', metadata: { current: next, previous: step } });
  step = next;
}

function showSearch(): void {
  goTo('search');
  view.replaceChildren(el('p', {}, 'Select your institution'));
  for (const institution of config?.institutions ?? []) {
    const button = el('button', { type: 'button', 'data-testid': 'institution-' + institution.id }, institution.name);
    button.addEventListener('click', () => {
      post(institution.selectedEvent);
      showCredentials(institution, true);
    });
    view.appendChild(button);
  }
  setStatus('search', 'Choose an institution');
}

function showCredentials(institution: { id: string; name: string }, canGoBack: boolean, retryMessage?: string): void {
  goTo('enterCreds');
  view.replaceChildren(
    el('p', {}, 'Sign in to ' + institution.name + ' (any username and password)'),
    el('label', { for: 'username' }, 'Username'),
    el('input', { id: 'username', 'data-testid': 'username-input', autocomplete: 'off', value: 'sandbox-user' }),
    el('label', { for: 'password' }, 'Password'),
    el('input', { id: 'password', type: 'password', 'data-testid': 'password-input', value: 'sandbox-password' }),
  );
  const connect = el('button', { type: 'button', class: 'primary', 'data-testid': 'connect-button' }, 'Connect');
  connect.addEventListener('click', () => submit(institution, canGoBack));
  view.appendChild(connect);
  if (canGoBack) {
    const back = el('button', { type: 'button', 'data-testid': 'back-button' }, 'Back');
    back.addEventListener('click', showSearch);
    view.appendChild(back);
  }
  if (retryMessage) setStatus('retry', retryMessage);
  else setStatus('credentials', 'Enter your credentials');
}

function submit(institution: { id: string; name: string }, canGoBack: boolean): void {
  const password = byId<HTMLInputElement>('password').value;
  goTo('connecting');
  view.replaceChildren();
  setStatus('connecting', 'Connecting to ' + institution.name + '…');
  api<ConnectResult>('POST', '/connect', { institutionId: institution.id, password })
    .then((result) => {
      result.events.forEach(post);
      if (result.outcome === 'retry') {
        // Like the real widget: the error is posted, and the form stays live for a correction.
        showCredentials(institution, canGoBack, result.message);
        return;
      }
      goTo(result.outcome === 'connected' ? 'connected' : 'error');
      setStatus(result.outcome === 'connected' ? 'connected' : 'failed', result.message);
      if (result.outcome !== 'connected' && !config?.preselected) {
        const retry = el('button', { type: 'button', 'data-testid': 'back-button' }, 'Try another institution');
        retry.addEventListener('click', showSearch);
        view.appendChild(retry);
      }
    })
    .catch(fail);
}

// The host can ask the widget to go back, as it can with the real one.
window.addEventListener('message', (event) => {
  const data: unknown = event.data;
  if (!config || !data || typeof data !== 'object') return;
  const message = data as { type?: unknown; payload?: { action?: unknown } };
  if (message.type !== 'mx/navigation' || !message.payload || message.payload.action !== 'back') return;
  const canGoBack = step === 'enterCreds' && !config.preselected;
  if (canGoBack) showSearch();
  post({ type: 'navigation', metadata: { did_go_back: canGoBack } });
});

api<SessionConfig>('GET', '')
  .then((loaded) => {
    config = loaded;
    post(loaded.loadedEvent);
    if (loaded.preselected) showCredentials(loaded.preselected, false);
    else showSearch();
  })
  .catch(fail);
