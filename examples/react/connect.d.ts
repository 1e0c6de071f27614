// Type declarations for the ucw-bff drop-in script (/connect.js). Generated from src/browser/connect/ucw-connect.ts.
declare namespace UcwConnect {
  type JobType = 'accountNumber' | 'accountOwner' | 'transactions' | 'transactionHistory';
  /** 'modal' (and 'auto'): the host page in an iframe overlay. 'popup': the host page in a new window. */
  type Presentation = 'auto' | 'modal' | 'popup';
  /**
   * The connect session's status as the BFF reports it. 'opened' includes a session whose widget
   * reported an error the person may still correct; 'failed' is a session that expired after such
   * an error; 'cancelled' the person cancelled; 'expired' ran out of time with nothing.
   */
  type SessionStatus = 'created' | 'opened' | 'connected' | 'failed' | 'cancelled' | 'expired';
  /** The sanitized metadata the BFF forwards with each widget event: no aggregator ids, no tokens. */
  interface EventMetadata {
    sessionId: string;
    /** The BFF's own connection id (as in GET /connections), once known. */
    connectionId: string | null;
    aggregator: string | null;
    institutionId: string | null;
    status: SessionStatus | null;
    /** Only on 'connect/memberError' (not an end: the widget stays open for a correction). */
    error?: {
      statusCode: number | null;
    };
  }
  /** What onExit receives as its second argument: the last event's metadata, or what is known so far. */
  interface ExitMetadata {
    sessionId: string | null;
    connectionId: string | null;
    aggregator: string | null;
    institutionId: string | null;
    status: SessionStatus | null;
  }
  /** An RFC 9457 problem as the BFF answers it. */
  interface Problem {
    type?: string;
    title?: string;
    status?: number;
    detail?: string;
    code?: string;
    requestId?: string;
    [field: string]: unknown;
  }
  type ExitError =
  /** The session ran out of time: metadata.status is 'failed' (after an uncorrected widget error) or 'expired'. */
  {
    type: 'session_ended';
    metadata: EventMetadata;
  }
  /**
   * POST /connect-url failed: status 0 when the BFF could not be reached (often: this page's
   * origin is not in the BFF's ALLOWED_ORIGINS, which the browser reports as a network error)
   * or getAuthHeaders threw.
   */
   | {
    type: 'request_failed';
    status: number;
    problem: Problem | null;
    message: string;
  }
  /** presentation 'popup' and the browser refused to open a window (open() not called from a click). */
   | {
    type: 'popup_blocked';
    status: 0;
    problem: null;
    message: string;
  };
  /** The session POST /connect-url created; passed to onLoad before the host page opens. */
  interface SessionInfo {
    sessionId: string;
    mode: 'new' | 'refresh' | null;
    expiresAt: string | null;
    /** Set when the user already has a connection at the requested institution: offer a refresh instead. */
    existingConnectionId: string | null;
  }
  interface CreateOptions {
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
  interface Handler {
    /** Call from a click handler (a popup must open inside the user's gesture). */
    open(): void;
    /** Closes any open modal or popup without callbacks and stops listening. */
    destroy(): void;
  }
  const version: string;
  /** A handler for one button: each open() creates a connect session and shows its host page. */
  function create(options: CreateOptions): Handler;
}

interface Window {
  UcwConnect: typeof UcwConnect;
}
