/**
 * In-process subscribers per session id. A Map of Sets rather than an EventEmitter: hundreds of
 * open SSE streams are normal here, and there is no listener cap to warn about or raise.
 */
import type { Logger } from '../logger.js';

export class LocalSubscribers {
  readonly #bySession = new Map<string, Set<() => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(sessionId: string, listener: () => void): () => void {
    // Wrapped so one listener subscribed twice gets two independent subscriptions.
    const entry = () => listener();
    let set = this.#bySession.get(sessionId);
    if (!set) this.#bySession.set(sessionId, (set = new Set()));
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#bySession.get(sessionId) === set) this.#bySession.delete(sessionId);
    };
  }

  /** Calls every listener of one session; a throwing listener is logged and does not stop the others. */
  notify(sessionId: string): void {
    for (const listener of [...(this.#bySession.get(sessionId) ?? [])]) this.#call(listener, sessionId);
  }

  /** Every session's listeners: after a gap in which notifications may have been missed. */
  notifyAll(): void {
    for (const sessionId of [...this.#bySession.keys()]) this.notify(sessionId);
  }

  clear(): void {
    this.#bySession.clear();
  }

  get sessionCount(): number {
    return this.#bySession.size;
  }

  #call(listener: () => void, sessionId: string): void {
    try {
      listener();
    } catch (error) {
      this.#logger.error({ sessionId, error: error instanceof Error ? error.message : String(error) }, 'session listener threw');
    }
  }
}
