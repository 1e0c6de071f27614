/**
 * Relays the widget's events to the BFF in order, one at a time; each is retried (with backoff,
 * or the server's Retry-After) until the BFF acknowledges or refuses it.
 */
export interface WidgetMessage {
  type: string;
  metadata: Record<string, unknown>;
}

export interface RelayOptions {
  /** Relative to the page: POST each event here. */
  eventsUrl: string;
  /** The BFF recorded the event; its answer (null when unreadable). */
  acknowledged(event: WidgetMessage, answer: unknown): void;
  /** The BFF refused the event (expired link, bad shape…): sending it again cannot help. */
  refused(event: WidgetMessage, status: number): void;
  /** The fourth attempt at one event: worth telling the person. */
  slow(): void;
}

/** Starts an empty queue; returns the function that appends an event to it. */
export function startRelay(options: RelayOptions): (event: WidgetMessage) => void {
  const queue: WidgetMessage[] = [];
  let sending = false;

  function pump(): void {
    const event = queue[0];
    if (sending || event === undefined) return;
    sending = true;
    deliver(event, 0, (answer) => {
      queue.shift();
      sending = false;
      options.acknowledged(event, answer);
      pump();
    });
  }

  function deliver(event: WidgetMessage, attempt: number, done: (answer: unknown) => void): void {
    const body = JSON.stringify({ type: event.type, metadata: event.metadata });
    fetch(options.eventsUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      // Lets the terminal event reach the BFF even if the page is closed right after it
      // (keepalive bodies are capped at 64 KiB, hence the guard).
      keepalive: body.length < 16384,
      credentials: 'omit',
      cache: 'no-store',
    }).then(
      (response) => {
        if (response.ok) {
          return response.json().then(done, () => done(null));
        }
        if (response.status === 429 || response.status >= 500) {
          retryLater(event, attempt, done, Number(response.headers.get('Retry-After')) * 1000);
          return;
        }
        console.warn('the event was refused', event.type, response.status);
        options.refused(event, response.status);
        done(null);
      },
      () => retryLater(event, attempt, done, 0),
    );
  }

  function retryLater(event: WidgetMessage, attempt: number, done: (answer: unknown) => void, hintMs: number): void {
    const backoff = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
    const delay = hintMs > 0 ? Math.min(hintMs, 60000) : backoff;
    if (attempt === 3) options.slow();
    setTimeout(() => deliver(event, attempt + 1, done), delay);
  }

  return (event) => {
    queue.push(event);
    pump();
  };
}
