/**
 * The drop-in script's public API (`window.UcwConnect`). This module is the one source of its
 * types: `npm run build:browser` bundles it into `/connect.js` and emits `/connect.d.ts` from its
 * exported declarations (doc comments included), so keep every exported type self-contained.
 */
import { openModal, type Modal } from './modal.js';
import { isRecord } from '../lib/dom.js';
import { call, errorText, stringOrNull, type JsonObject } from './util.js';

export type JobType = 'accountNumber' | 'accountOwner' | 'transactions' | 'transactionHistory';

/** 'modal' (and 'auto'): the host page in an iframe overlay. 'popup': the host page in a new window. */
export type Presentation = 'auto' | 'modal' | 'popup';

/**
 * The connect session's status as the BFF reports it. 'opened' includes a session whose widget
 * reported an error the person may still correct; 'failed' is a session that expired after such
 * an error; 'cancelled' the person cancelled; 'expired' ran out of time with nothing.
 */
export type SessionStatus = 'created' | 'opened' | 'connected' | 'failed' | 'cancelled' | 'expired';

/** The sanitized metadata the BFF forwards with each widget event: no aggregator ids, no tokens. */
export interface EventMetadata {
  sessionId: string;
  /** The BFF's own connection id (as in GET /connections), once known. */
  connectionId: string | null;
  aggregator: string | null;
  institutionId: string | null;
  status: SessionStatus | null;
  /** Only on 'connect/memberError' (not an end: the widget stays open for a correction). */
  error?: { statusCode: number | null };
}

/** What onExit receives as its second argument: the last event's metadata, or what is known so far. */
export interface ExitMetadata {
  sessionId: string | null;
  connectionId: string | null;
  aggregator: string | null;
  institutionId: string | null;
  status: SessionStatus | null;
}

/** An RFC 9457 problem as the BFF answers it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  requestId?: string;
  [field: string]: unknown;
}

export type ExitError =
  /** The session ran out of time: metadata.status is 'failed' (after an uncorrected widget error) or 'expired'. */
  | { type: 'session_ended'; metadata: EventMetadata }
  /**
   * POST /connect-url failed: status 0 when the BFF could not be reached (often: this page's
   * origin is not in the BFF's ALLOWED_ORIGINS, which the browser reports as a network error)
   * or getAuthHeaders threw.
   */
  | { type: 'request_failed'; status: number; problem: Problem | null; message: string }
  /** presentation 'popup' and the browser refused to open a window (open() not called from a click). */
  | { type: 'popup_blocked'; status: 0; problem: null; message: string };

/** The session POST /connect-url created; passed to onLoad before the host page opens. */
export interface SessionInfo {
  sessionId: string;
  mode: 'new' | 'refresh' | null;
  expiresAt: string | null;
  /** Set when the user already has a connection at the requested institution: offer a refresh instead. */
  existingConnectionId: string | null;
}

export interface CreateOptions {
  /** The BFF's base URL; defaults to the URL this script was served from. */
  bffUrl?: string;
  jobTypes: JobType[] | string;
  /** Skips the institution search in the widget. */
  institutionId?: string;
  /** The BFF's id of an existing connection of this user: refreshes it. */
  connectionId?: string;
  singleAccountSelect?: boolean;
  /** Default 'auto' (a modal). Use 'popup' where third-party cookies in iframes are blocked. */
  presentation?: Presentation;
  /** Headers for POST /connect-url, e.g. () => ({ Authorization: 'Bearer ' + token }). */
  getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** fetch credentials for POST /connect-url; default 'include' (sends the BFF's auth cookie). */
  credentials?: RequestCredentials;
  /** The connection succeeded; the modal or popup is already closed. */
  onSuccess?: (metadata: EventMetadata) => void;
  /**
   * The person left (error null: the modal's close button, Escape, the popup closed, or the host
   * page's Cancel; the session is then 'cancelled'), the session ran out of time, or it could not
   * start. Never called for 'connect/memberError', which onEvent receives.
   */
  onExit?: (error: ExitError | null, metadata: ExitMetadata) => void;
  /**
   * Every sanitized event, in order: the widget's (including 'connect/memberError', after which
   * the widget stays open for the person to correct their details) and the host page's own
   * 'connect/cancelled' and 'connect/expired'.
   */
  onEvent?: (type: string, metadata: EventMetadata) => void;
  /** The session exists; the host page is about to open. */
  onLoad?: (session: SessionInfo) => void;
}

export interface Handler {
  /** Call from a click handler (a popup must open inside the user's gesture). */
  open(): void;
  /** Closes any open modal or popup without callbacks and stops listening. */
  destroy(): void;
}

export const version: string = '1.0.0';

/**
 * The server's public URL, set by the one-line wrapper the server puts around this bundle
 * (src/sdk/connect-js.ts) as a JSON value: configuration travels as data, not as code.
 */
declare const DEFAULT_BFF_URL: string;

const PRESENTATIONS: readonly string[] = ['auto', 'modal', 'popup'];
const CALLBACKS = ['onSuccess', 'onExit', 'onEvent', 'onLoad', 'getAuthHeaders'] as const;
const POPUP_FEATURES = 'popup,width=500,height=760';

/** One open attempt: what it opened and what it has learned so far. */
interface Attempt {
  closed: boolean;
  sessionId: string | null;
  origin: string | null;
  cancelUrl: string | null;
  /** The window whose messages count: the iframe's (its WindowProxy survives navigation) or the popup. */
  target: Window | null;
  lastMetadata: EventMetadata | null;
  popup: Window | null;
  modal: Modal | null;
  watcher: ReturnType<typeof setInterval> | null;
}

interface Settings {
  endpoint: string;
  presentation: 'modal' | 'popup';
}

/** Only the fields the BFF forwards; nothing else a message might carry is passed on. */
function eventMetadata(metadata: JsonObject, sessionId: string): EventMetadata {
  const result: EventMetadata = {
    sessionId,
    connectionId: stringOrNull(metadata['connectionId']),
    aggregator: stringOrNull(metadata['aggregator']),
    institutionId: stringOrNull(metadata['institutionId']),
    // The BFF's own value, passed on as it came.
    status: stringOrNull(metadata['status']) as SessionStatus | null,
  };
  const error = metadata['error'];
  if (isRecord(error)) {
    result.error = { statusCode: typeof error['statusCode'] === 'number' ? error['statusCode'] : null };
  }
  return result;
}

/** Plain-JavaScript callers get no compiler: every option is checked at run time. */
function validateOptions(options: unknown): Settings {
  if (!isRecord(options)) throw new TypeError('UcwConnect.create: options must be an object');
  const jobTypes = options['jobTypes'];
  const listed = Array.isArray(jobTypes) ? jobTypes.length > 0 : typeof jobTypes === 'string' && jobTypes.length > 0;
  if (!listed) throw new TypeError('UcwConnect.create: jobTypes must name at least one job type');
  const presentation = options['presentation'] === undefined ? 'auto' : options['presentation'];
  if (typeof presentation !== 'string' || PRESENTATIONS.indexOf(presentation) < 0) {
    throw new TypeError('UcwConnect.create: presentation must be one of ' + PRESENTATIONS.join(', '));
  }
  for (const name of CALLBACKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError('UcwConnect.create: ' + name + ' must be a function');
    }
  }
  const base = options['bffUrl'] === undefined ? DEFAULT_BFF_URL : options['bffUrl'];
  let bffUrl: URL;
  try {
    bffUrl = new URL(String(base), window.location.href);
  } catch {
    throw new TypeError('UcwConnect.create: bffUrl is not a valid URL');
  }
  if (bffUrl.protocol !== 'https:' && bffUrl.protocol !== 'http:') {
    throw new TypeError('UcwConnect.create: bffUrl must be an http(s) URL');
  }
  return {
    // Keeps a path prefix (a BFF mounted under /bff) and drops a trailing slash.
    endpoint: bffUrl.origin + bffUrl.pathname.replace(/\/+$/, '') + '/connect-url',
    presentation: presentation === 'popup' ? 'popup' : 'modal',
  };
}

function requestBody(options: CreateOptions): JsonObject {
  const body: JsonObject = { jobTypes: options.jobTypes };
  if (options.institutionId !== undefined) body['institutionId'] = options.institutionId;
  if (options.connectionId !== undefined) body['connectionId'] = options.connectionId;
  if (options.singleAccountSelect !== undefined) body['singleAccountSelect'] = options.singleAccountSelect;
  // Explicit, so a frontend whose origin the BFF does not allow gets a clear 400 instead of
  // a session that silently never reports back.
  body['targetOrigin'] = window.location.origin;
  return body;
}

function problemOf(response: Response): Promise<Problem | null> {
  return response.text().then(
    (text) => {
      try {
        const parsed: unknown = JSON.parse(text);
        return isRecord(parsed) ? parsed : null;
      } catch {
        return null;
      }
    },
    () => null,
  );
}

function requestFailed(status: number, problem: Problem | null, message: string): ExitError {
  return { type: 'request_failed', status, problem, message };
}

/** A handler for one button: each open() creates a connect session and shows its host page. */
export function create(options: CreateOptions): Handler {
  const settings = validateOptions(options);
  let destroyed = false;
  let current: Attempt | null = null; // the open attempt: one at a time per handler

  function exitMetadata(attempt: Attempt): ExitMetadata {
    if (attempt.lastMetadata) return attempt.lastMetadata;
    return { sessionId: attempt.sessionId, connectionId: null, aggregator: null, institutionId: null, status: null };
  }

  function teardown(attempt: Attempt): void {
    if (attempt.closed) return;
    attempt.closed = true;
    if (current === attempt) current = null;
    if (attempt.watcher) clearInterval(attempt.watcher);
    if (attempt.modal) attempt.modal.remove();
    if (attempt.popup && !attempt.popup.closed) {
      try {
        attempt.popup.close();
      } catch {
        // Already gone.
      }
    }
  }

  function exit(attempt: Attempt, error: ExitError | null): void {
    if (attempt.closed) return;
    const metadata = exitMetadata(attempt);
    teardown(attempt);
    if (!destroyed) call(options.onExit, error, metadata);
  }

  // The person closed the modal or the popup: the BFF records the session as cancelled, so its
  // SSE stream and GET /connect-sessions/:id agree with onExit. The host page URL is the
  // session capability; a simple no-cors POST needs no CORS answer.
  function cancelled(attempt: Attempt): void {
    if (attempt.closed) return;
    if (attempt.cancelUrl) {
      try {
        window.fetch(attempt.cancelUrl, { method: 'POST', mode: 'no-cors', credentials: 'omit', keepalive: true }).catch(() => undefined);
      } catch {
        // Best effort: the session still ends at its expiry.
      }
    }
    exit(attempt, null);
  }

  function onMessage(event: MessageEvent): void {
    const attempt = current;
    if (!attempt || !attempt.sessionId || !attempt.target) return;
    if (event.origin !== attempt.origin || event.source !== attempt.target) return;
    const data: unknown = event.data;
    if (!isRecord(data) || typeof data['type'] !== 'string' || data['type'].indexOf('connect/') !== 0) return;
    const raw = data['metadata'];
    if (!isRecord(raw) || raw['sessionId'] !== attempt.sessionId) return;
    const type = data['type'];
    const metadata = eventMetadata(raw, attempt.sessionId);
    attempt.lastMetadata = metadata;
    call(options.onEvent, type, metadata);
    // connect/memberError is not an end: the widget keeps its form live for a correction.
    if (type === 'connect/memberConnected') {
      teardown(attempt);
      call(options.onSuccess, metadata);
    } else if (type === 'connect/cancelled') {
      exit(attempt, null);
    } else if (type === 'connect/expired') {
      exit(attempt, { type: 'session_ended', metadata });
    }
  }

  function openPopup(attempt: Attempt): boolean {
    // Synchronously inside the caller's click: a window opened after an await is blocked.
    const popup = window.open('about:blank', '_blank', POPUP_FEATURES);
    if (!popup) return false;
    try {
      popup.document.title = 'Connecting\u2026';
      popup.document.body.textContent = 'Loading\u2026';
    } catch {
      // Not writable: it is navigated to the host page anyway.
    }
    attempt.popup = popup;
    attempt.target = popup;
    attempt.watcher = setInterval(() => {
      if (popup.closed) cancelled(attempt);
    }, 400);
    return true;
  }

  function show(attempt: Attempt, url: string): void {
    if (attempt.popup) {
      attempt.popup.location.replace(url);
      try {
        attempt.popup.focus();
      } catch {
        // Some browsers refuse focus changes; harmless.
      }
    } else if (attempt.modal) {
      attempt.modal.frame.src = url;
    }
  }

  function start(attempt: Attempt): void {
    Promise.resolve()
      .then(() => (typeof options.getAuthHeaders === 'function' ? options.getAuthHeaders() : {}))
      .then(
        (authHeaders: unknown) => {
          if (attempt.closed) return null;
          const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
          if (isRecord(authHeaders)) {
            for (const name of Object.keys(authHeaders)) headers[name] = String(authHeaders[name]);
          }
          return window
            .fetch(settings.endpoint, {
              method: 'POST',
              headers,
              body: JSON.stringify(requestBody(options)),
              credentials: options.credentials === undefined ? 'include' : options.credentials,
              cache: 'no-store',
            })
            .then(
              (response) => answered(attempt, response),
              (error: unknown) => {
                // A browser says only "Failed to fetch" for a CORS refusal, the commonest cause.
                exit(
                  attempt,
                  requestFailed(
                    0,
                    null,
                    'Could not reach the connect service at ' + settings.endpoint + ' (' + errorText(error) + '). ' +
                      "If it is running, this page's origin (" + window.location.origin + ') may not be in its ALLOWED_ORIGINS.',
                  ),
                );
              },
            );
        },
        (error: unknown) => {
          exit(attempt, requestFailed(0, null, 'getAuthHeaders failed: ' + errorText(error)));
        },
      );
  }

  function answered(attempt: Attempt, response: Response): Promise<void> | null {
    if (attempt.closed) return null;
    if (!response.ok) {
      return problemOf(response).then((problem) => {
        const detail = problem && typeof problem.detail === 'string' ? ': ' + problem.detail : '';
        exit(attempt, requestFailed(response.status, problem, 'The connect service answered ' + response.status + detail));
      });
    }
    return response.json().then(
      (session: unknown) => {
        if (attempt.closed) return;
        let url: URL | null = null;
        try {
          url = isRecord(session) && typeof session['url'] === 'string' ? new URL(session['url']) : null;
        } catch {
          url = null;
        }
        if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !isRecord(session) || typeof session['sessionId'] !== 'string') {
          exit(attempt, requestFailed(response.status, null, 'The connect service answered without a usable connect URL'));
          return;
        }
        attempt.sessionId = session['sessionId'];
        attempt.origin = url.origin;
        attempt.cancelUrl = url.origin + url.pathname.replace(/\/+$/, '') + '/cancel' + url.search;
        const mode = stringOrNull(session['mode']);
        call(options.onLoad, {
          sessionId: session['sessionId'],
          // The BFF's own value, passed on as it came.
          mode: mode as SessionInfo['mode'],
          expiresAt: stringOrNull(session['expiresAt']),
          existingConnectionId: stringOrNull(session['existingConnectionId']),
        });
        if (attempt.closed) return;
        if (attempt.popup && attempt.popup.closed) {
          exit(attempt, null);
          return;
        }
        show(attempt, url.href);
      },
      () => {
        exit(attempt, requestFailed(response.status, null, 'The connect service answered with unreadable JSON'));
      },
    );
  }

  window.addEventListener('message', onMessage);

  return {
    open() {
      if (destroyed) throw new Error('UcwConnect: open() after destroy()');
      if (current) {
        // Already open: bring it forward instead of starting a second session.
        if (current.popup && !current.popup.closed) current.popup.focus();
        return;
      }
      const attempt: Attempt = {
        closed: false, sessionId: null, origin: null, cancelUrl: null, target: null, lastMetadata: null,
        popup: null, modal: null, watcher: null,
      };
      current = attempt;
      if (settings.presentation === 'popup') {
        if (!openPopup(attempt)) {
          exit(attempt, {
            type: 'popup_blocked',
            status: 0,
            problem: null,
            message: 'The browser blocked the connect window. Call open() directly from a click handler, or allow pop-ups.',
          });
          return;
        }
      } else {
        attempt.modal = openModal(() => cancelled(attempt));
        attempt.target = attempt.modal.frame.contentWindow;
      }
      start(attempt);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (current) teardown(current);
      window.removeEventListener('message', onMessage);
    },
  };
}
