/**
 * What the host page's script needs, shared by the server that writes it (as the page's JSON
 * data block, never spliced into script source) and the script that reads it
 * (src/browser/host-page/). Types only: it is imported from both sides.
 */
export interface HostPageData {
  sessionId: string;
  presentation: 'iframe' | 'popup';
  /** Minted at load in iframe mode; null in popup mode (minted on click through `widgetUrlEndpoint`). */
  widgetUrl: string | null;
  /** Relative to the page (works behind a path prefix): POST here for a fresh widget URL. */
  widgetUrlEndpoint: string;
  /** Relative to the page: POST each accepted widget event here. */
  eventsUrl: string;
  /** Relative to the page: POST here when the person presses Cancel. */
  cancelUrl: string;
  /** The session's expiry (ISO 8601): the page treats the session as ended after it. */
  expiresAt: string;
  /** The frontend origin that receives sanitized events; null sends none. */
  targetOrigin: string | null;
  /** Allow-listed at session creation; the page returns here after a terminal event. */
  redirectUri: string | null;
}
