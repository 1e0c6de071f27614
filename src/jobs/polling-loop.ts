/**
 * The polling loop shared by the outbox dispatcher and the job runner: run a tick, poll again
 * at once while ticks find work (drain a backlog), otherwise wait `intervalMs`. `stop()` stops
 * scheduling and waits for ticks already running, so shutdown never abandons a half-done write.
 */
import type { Logger } from '../logger.js';

export interface PollingLoop {
  start(): void;
  /** Stops polling and resolves once every in-flight tick has settled. */
  stop(): Promise<void>;
  /** One tick now (tests drive the loop with this); resolves with the tick's work count. */
  runOnce(): Promise<number>;
}

export function createPollingLoop(options: {
  name: string;
  intervalMs: number;
  tick: () => Promise<number>;
  logger: Logger;
  /** Runs once before the first tick of each start (e.g. refresh a gauge); failures are logged. */
  onStart?: () => Promise<void>;
}): PollingLoop {
  const inFlight = new Set<Promise<unknown>>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };

  const runOnce = () => track(options.tick());

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      timer = undefined;
      void track(poll());
    }, delayMs);
    // The HTTP server keeps the process alive; a pending poll must not keep a finished one (or a test) running.
    timer.unref();
  };

  const poll = async () => {
    let worked = 0;
    try {
      worked = await options.tick();
    } catch (error) {
      options.logger.error({ loop: options.name, error: describe(error) }, 'poll failed');
    }
    if (running) schedule(worked > 0 ? 0 : options.intervalMs);
  };

  return {
    start() {
      if (running) return;
      running = true;
      const begin = async () => {
        try {
          await options.onStart?.();
        } catch (error) {
          options.logger.error({ loop: options.name, error: describe(error) }, 'start hook failed');
        }
        if (running) schedule(0);
      };
      void track(begin());
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    runOnce,
  };
}

/** Only the message: an error's other fields (a request's headers, a cause chain) may carry secrets. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
