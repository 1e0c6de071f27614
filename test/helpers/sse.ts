export interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Opens an SSE stream with fetch and collects its events until the server ends it (or
 * `timeoutMs` passes, which fails). Comment lines (heartbeats) are skipped.
 */
export async function openSse(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  let heartbeats = 0;
  const waiters: Array<() => void> = [];
  let ended = false;
  const done = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += value;
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          if (block === ': heartbeat') {
            heartbeats += 1;
            for (const wake of waiters.splice(0)) wake();
            continue;
          }
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => !line.startsWith(':') && line.includes(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
          );
          if (fields.data !== undefined) {
            events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) as Record<string, unknown> });
            for (const wake of waiters.splice(0)) wake();
          }
        }
      }
    } catch {
      // aborted by close()
    }
    ended = true;
    for (const wake of waiters.splice(0)) wake();
  })();
  return {
    response: res,
    events,
    get ended() {
      return ended;
    },
    /** Resolves once `predicate` holds for the events seen so far. */
    async until(predicate: (events: SseEvent[]) => boolean, timeoutMs = 10_000): Promise<SseEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (ended) throw new Error(`stream ended before the expected events: ${JSON.stringify(events)}`);
        if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return events;
    },
    /** Resolves once the server has sent `count` heartbeat comments. */
    async untilHeartbeats(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (heartbeats < count) {
        if (ended) throw new Error(`stream ended after ${heartbeats} heartbeats`);
        if (Date.now() > deadline) throw new Error(`timed out after ${heartbeats} heartbeats`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    get heartbeats() {
      return heartbeats;
    },
    /** Waits for the server to end the stream. */
    finished: () => done,
    close: () => controller.abort(),
  };
}
