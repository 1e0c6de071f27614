/**
 * The host page's only script. It reads its data from the `#host-data` JSON block (never from
 * interpolated source), shows the widget, accepts the widget's messages (right origin, right
 * window, right shape), relays them to the BFF in order until each is acknowledged, forwards the
 * BFF's sanitized copy to the frontend, and returns to the redirect URI when the session ends:
 * connected, cancelled (its Cancel control) or expired. A `connect/memberError` is not an end:
 * the widget keeps its form live, so the page shows a hint and stays.
 */
import type { HostPageData } from '../../web/host-page.data.js';
import { byId, isRecord, pageData } from '../lib/dom.js';
import { startRelay, type WidgetMessage } from './relay.js';

type Metadata = Record<string, unknown>;
interface Forward {
  type: string;
  metadata: Metadata;
}
/** The BFF's answer to a relayed event or a cancel (only the fields the page uses). */
interface Answer {
  forward?: Forward;
  sessionStatus?: string;
}

const data = pageData<HostPageData>('host-data');
const statusEl = byId('status');
const noticeEl = byId('notice');
const cancelButton = byId<HTMLButtonElement>('cancel');
const framed = window.parent !== window;
const DONE = framed ? '' : ' You can close this window.';

// The one window whose messages count (the iframe's or the popup's) and the origin it must have.
let widgetWindow: Window | null = null;
let widgetOrigin: string | null = null;
let popupWindow: Window | null = null;
let finished = false;
// What the frontend last heard, so a page-made ending (expiry) can say the same things.
let lastMetadata: Metadata = { sessionId: data.sessionId, connectionId: null, aggregator: null, institutionId: null, status: 'opened' };
let sawError = false;

function setStatus(state: string, text: string): void {
  statusEl.setAttribute('data-state', state);
  statusEl.textContent = text;
}

const stateIs = (state: string) => statusEl.getAttribute('data-state') === state;

function showNotice(text: string): void {
  noticeEl.textContent = text;
  noticeEl.hidden = false;
}

function forwardOf(answer: unknown): Forward | null {
  if (!isRecord(answer) || !isRecord(answer['forward'])) return null;
  return answer['forward'] as unknown as Forward;
}

// A frontend other than the one that asked for this session should not be embedding it.
function framerMismatch(): string | null {
  if (!framed || !data.targetOrigin) return null;
  const ancestors = window.location.ancestorOrigins;
  if (!ancestors || ancestors.length === 0) return null;
  const framer = ancestors[0] ?? null;
  return framer === data.targetOrigin ? null : framer;
}

// Sanitized events (already stripped by the BFF) to the frontend, at its origin only.
function forward(message: Forward): void {
  const targetOrigin = data.targetOrigin;
  if (!targetOrigin) return;
  const targets: Window[] = [];
  if (framed) targets.push(window.parent);
  if (window.opener && window.opener !== window.parent) targets.push(window.opener as Window);
  for (const target of targets) {
    try {
      target.postMessage(message, targetOrigin);
    } catch (error) {
      console.warn('could not forward the event', error);
    }
  }
}

// The session is over, one way or another: stop listening, close what we opened, go back.
function finish(state: string, text: string, status: string): void {
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
  const panel = document.getElementById('popup-panel');
  if (panel) panel.hidden = true;
  returnToApp(status);
}

function returnToApp(status: string): void {
  if (!data.redirectUri) return;
  const target = new URL(data.redirectUri);
  target.searchParams.set('sessionId', data.sessionId);
  target.searchParams.set('status', status);
  // Shown first: a framed page may not be allowed to navigate the top window.
  byId<HTMLAnchorElement>('continue-link').href = target.href;
  byId('continue').hidden = false;
  try {
    if (window.top) window.top.location.href = target.href;
  } catch (error) {
    console.warn('could not navigate to the redirect URI', error);
  }
}

/** Connected or cancelled end the page; anything else leaves it as it is. */
function finishOn(status: unknown): boolean {
  if (status === 'connected') finish('connected', 'Connected.' + DONE, 'connected');
  else if (status === 'cancelled') finish('cancelled', 'Cancelled.' + DONE, 'cancelled');
  else return false;
  return true;
}

function acknowledged(event: WidgetMessage, answer: Answer | null): void {
  if (finished) return;
  if (stateIs('retrying')) setStatus('ready', '');
  const forwarded = forwardOf(answer);
  if (forwarded) {
    if (isRecord(forwarded.metadata)) lastMetadata = forwarded.metadata;
    forward(forwarded);
  }
  if (finishOn(answer?.sessionStatus)) return;
  if (event.type === 'connect/memberError') {
    // Not an end: the widget keeps its form live and lets the person correct the details.
    sawError = true;
    setStatus('hint', 'Check the details in the widget to continue.');
  } else if (stateIs('hint') && event.type === 'connect/memberStatusUpdate') {
    setStatus('ready', '');
  }
}

// The BFF refuses events into a session that ended by time: the session is over.
function ended(): void {
  if (finished) return;
  const status = sawError ? 'failed' : 'expired';
  lastMetadata['status'] = status;
  forward({ type: 'connect/expired', metadata: lastMetadata });
  finish('expired', 'This connect link has expired. Start again from the app.', status);
}

function cancel(): void {
  if (finished) return;
  cancelButton.disabled = true;
  fetch(data.cancelUrl, { method: 'POST', credentials: 'omit', cache: 'no-store', keepalive: true })
    .then((response) => {
      if (response.status === 410) return ended();
      if (!response.ok) throw new Error(String(response.status));
      return response.json().then((answer: Answer | null) => {
        const forwarded = forwardOf(answer);
        if (forwarded) forward(forwarded);
        if (!finishOn(answer?.sessionStatus)) ended();
      });
    })
    .catch((error: unknown) => {
      console.warn('could not cancel', error);
      cancelButton.disabled = false;
      setStatus('error', 'Could not cancel. Try again.');
    });
}

const relay = startRelay({
  eventsUrl: data.eventsUrl,
  acknowledged: (event, answer) => acknowledged(event, answer as Answer | null),
  refused(event, status) {
    if (status === 410) ended();
    else if (event.type === 'connect/memberConnected') setStatus('error', 'We could not record the result. Start again from the app.');
  },
  slow: () => setStatus('retrying', 'Saving your connection is taking longer than usual…'),
});

window.addEventListener('message', (event) => {
  if (finished || widgetWindow === null || event.source !== widgetWindow || event.origin !== widgetOrigin) return;
  const message: unknown = event.data;
  if (!isRecord(message)) return;
  if (typeof message['type'] !== 'string' || message['type'].indexOf('connect/') !== 0) return;
  const metadata = message['metadata'];
  if (!isRecord(metadata)) return;
  relay({ type: message['type'], metadata });
});

function startFrame(widgetUrl: string): void {
  const frame = byId<HTMLIFrameElement>('widget');
  widgetOrigin = new URL(widgetUrl).origin;
  widgetWindow = frame.contentWindow;
  frame.addEventListener('load', () => {
    if (stateIs('loading')) setStatus('ready', '');
  });
  frame.src = widgetUrl;
  frame.hidden = false;
}

function startPopup(): void {
  const button = byId<HTMLButtonElement>('open-widget');
  let popup: Window | null = null;
  let watcher: ReturnType<typeof setInterval> | null = null;
  setStatus('ready', '');

  function reset(state: string, text: string): void {
    if (watcher) clearInterval(watcher);
    watcher = null;
    widgetWindow = null;
    widgetOrigin = null;
    button.disabled = false;
    setStatus(state, text);
  }

  button.addEventListener('click', () => {
    if (popup && !popup.closed) {
      popup.focus();
      return;
    }
    // Opened synchronously inside the click: browsers block window.open outside a user gesture.
    // The widget URL is minted now, not at page load: UCW tokens are single use and expire.
    const opened = window.open('about:blank', 'ucw-widget-' + data.sessionId, 'popup,width=480,height=720');
    popup = opened;
    popupWindow = opened;
    if (!opened) {
      setStatus('blocked', 'Your browser blocked the connection window. Allow pop-ups for this page and try again.');
      return;
    }
    try {
      opened.document.title = 'Connecting…';
      opened.document.body.textContent = 'Loading…';
    } catch {
      // Not ours to write into (an existing window of that name): it is navigated below anyway.
    }
    widgetWindow = opened;
    button.disabled = true;
    setStatus('opening', 'Opening the connection window…');
    fetch(data.widgetUrlEndpoint, { method: 'POST', credentials: 'omit', cache: 'no-store' })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.json() as Promise<{ url: string }>;
      })
      .then((answer) => {
        if (opened.closed) {
          reset('closed', 'The connection window was closed.');
          return;
        }
        widgetOrigin = new URL(answer.url).origin;
        opened.location.replace(answer.url);
        setStatus('open', 'Continue in the connection window.');
        watcher = setInterval(() => {
          if (!opened.closed) return;
          if (finished) {
            if (watcher) clearInterval(watcher);
            return;
          }
          reset('closed', 'The connection window was closed. Open it again to continue.');
        }, 500);
      })
      .catch((error: unknown) => {
        opened.close();
        const status = Number(error instanceof Error ? error.message : NaN);
        reset(
          'error',
          status === 410
            ? 'This connect link has expired or is already used. Start again from the app.'
            : status === 429
              ? 'This connect link has been opened too many times. Start again from the app.'
              : 'Could not start the connection. Try again.',
        );
      });
  });
}

function main(): void {
  cancelButton.addEventListener('click', cancel);
  // The session's own deadline: after it, the BFF ends it (failed after an error, else expired).
  const remaining = new Date(data.expiresAt).getTime() - Date.now();
  if (remaining < 2147483647) setTimeout(ended, Math.max(0, remaining) + 1000);

  const stranger = framerMismatch();
  if (stranger) {
    setStatus('blocked', 'This page cannot be shown here.');
    showNotice('This page is embedded by ' + stranger + ', which is not the app that started this connection.');
    return;
  }
  if (data.presentation === 'iframe' && data.widgetUrl) startFrame(data.widgetUrl);
  else startPopup();
}

main();
