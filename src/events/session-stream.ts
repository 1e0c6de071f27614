import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Database, ConnectSessionRow } from '../db/schema.js';
import { latestSessionChangeSeqs, listSessionChanges } from './event-log.repository.js';
import { ENDED_WITHOUT_CONNECTION, isFinalStreamEvent, isPastExpiry } from './state-machine.js';
import type { SessionNotifier } from '../notify/session-notifier.js';

export interface SessionStreamDeps {
  db: Kysely<Database>;
  notifier: SessionNotifier;
  /** With verification on, `connected` is not the end: `dataReady` (or a failed verification) is. */
  verificationEnabled: boolean;
  heartbeatMs: number;
  clock: () => Date;
  /** Ends the session if its expiry has passed; the recorded ending then reaches the stream. */
  expireIfDue: (session: ConnectSessionRow) => Promise<ConnectSessionRow>;
  /** The session as it stands now (a stream keeps only its id, status and expiry). */
  findSession: (id: string) => Promise<ConnectSessionRow | undefined>;
}

/** One open stream, as the registry sees it. */
export interface OpenStream {
  readonly sessionId: string;
  /** The seq of the last change the client was sent (the stream moves it on as it sends). */
  seq: number;
  /** Reads the log after `seq` and sends what is new. */
  pump(): void;
  /** Keeps the connection alive (an SSE comment) and ends the session if its expiry has passed. */
  beat(): void;
  close(retryMs?: number): void;
}

/**
 * Open streams: so shutdown can end them instead of waiting for clients to leave, and so one
 * timer serves them all. Each tick sends every stream its heartbeat, then one periodic read finds
 * the streams a lost signal left behind (see catchUpStreams). One timer, not one per stream: at
 * thousands of open streams, a timer and its closure each add up.
 */
export class StreamRegistry {
  readonly #open = new Set<OpenStream>();
  #timer: NodeJS.Timeout | undefined;

  add(stream: OpenStream): () => void {
    this.#open.add(stream);
    return () => {
      this.#open.delete(stream);
      if (this.#open.size === 0) this.#stop();
    };
  }

  /**
   * Every `everyMs` while streams are open: a heartbeat to each, then `catchUp` (idempotent; never
   * two catch-up runs at once). A stream's first heartbeat may come sooner than `everyMs` after it
   * opened; no two come further apart than that and the few turns of the event loop a tick takes:
   * both go `TICK_CHUNK` streams per turn (done in one go, a tick over 5,000 streams held every
   * request up for over 100 ms).
   */
  startHeartbeat(everyMs: number, catchUp: (streams: readonly OpenStream[]) => Promise<void>): void {
    if (this.#timer) return;
    let beating = false;
    let catchingUp = false;
    this.#timer = setInterval(() => {
      const streams = [...this.#open];
      if (!beating) {
        beating = true;
        void inChunks(streams, (stream) => stream.beat()).finally(() => (beating = false));
      }
      if (catchingUp || streams.length === 0) return;
      catchingUp = true;
      // catchUp absorbs database errors itself; the catch only keeps a bug from crashing the process.
      void catchUp(streams)
        .catch(() => undefined)
        .finally(() => (catchingUp = false));
    }, everyMs);
    this.#timer.unref();
  }

  /** Ends every stream; with `retryMs`, each first tells its client when to reconnect (SSE `retry:`). */
  closeAll(retryMs?: number): void {
    for (const stream of [...this.#open]) stream.close(retryMs);
    this.#stop();
  }

  get size(): number {
    return this.#open.size;
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Open streams per catch-up read: bounds the statement's parameter list. */
const CATCH_UP_BATCH = 100;

/** Streams a heartbeat tick handles per turn of the event loop; requests are served in between. */
const TICK_CHUNK = 50;

/** `each` over `items`, `TICK_CHUNK` per turn of the event loop. */
async function inChunks<T>(items: readonly T[], each: (item: T) => void): Promise<void> {
  for (let i = 0; i < items.length; i += TICK_CHUNK) {
    if (i > 0) await setImmediatePromise();
    for (let j = i; j < Math.min(i + TICK_CHUNK, items.length); j += 1) each(items[j]!);
  }
}

/**
 * The safety net behind the signals: one read per batch of open streams (not one per stream)
 * finds each session whose log has moved past what its stream sent, and pumps only those. A
 * signal lost on its way (an instance that died between commit and notify) delays an event by
 * at most one heartbeat interval, and an idle instance costs the database one cheap query then.
 */
export async function catchUpStreams(db: Kysely<Database>, streams: readonly OpenStream[]): Promise<void> {
  for (let i = 0; i < streams.length; i += CATCH_UP_BATCH) {
    // SQLite answers without leaving this turn of the event loop: let requests in between reads.
    if (i > 0) await setImmediatePromise();
    const batch = streams.slice(i, i + CATCH_UP_BATCH);
    const latest = await latestSessionChangeSeqs(db, [...new Set(batch.map((stream) => stream.sessionId))]).catch(() => undefined);
    if (!latest) return; // the database is away; the next interval tries again
    for (const stream of batch) if ((latest.get(stream.sessionId) ?? 0) > stream.seq) stream.pump();
  }
}

const lastEventId = (req: Request): number => {
  const given = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
  return given && /^\d{1,15}$/.test(given) ? Number(given) : 0;
};

/**
 * A stream lives for minutes, its request and response with it; two things they hold are dead
 * weight by then (measured at 5,000 streams: 3.1 KiB of heap a stream together).
 * - Node keeps the response head (`res._header`) as the tree of pieces it was concatenated from,
 *   some 75 for the ~20 headers every answer here carries: made one flat string (converting a
 *   string to a number flattens it in place).
 * - Express's continuation (`req.next`) keeps every router's per-request state alive: dropped, as
 *   nothing routes this request again.
 */
function keepOnlyWhatStreamsNeed(req: Request, res: Response): void {
  const head = (res as unknown as { _header?: unknown })._header;
  if (typeof head === 'string') Number(head);
  (req as unknown as { next?: unknown }).next = undefined;
}

/**
 * Server-Sent Events of one session's state changes (`status`, `connected`, `verified`,
 * `dataReady`, `failed`, `verificationFailed`), replayed from the event log after
 * `Last-Event-ID`, so a reconnecting browser misses nothing. Every signal re-reads the log, and
 * every heartbeat interval catchUpStreams re-reads it for the streams that are behind: a lost
 * notification only delays an event, never drops it.
 */
export function streamSession(deps: SessionStreamDeps, registry: StreamRegistry, session: ConnectSessionRow, req: Request, res: Response): void {
  // HEAD reaches this GET handler too; it has no body, so it must not hold a stream open.
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' }).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  keepOnlyWhatStreamsNeed(req, res);
  // What the stream goes on needing of the session; the closures below never hold the whole row.
  const { id: sessionId, status: statusAtOpen, expires_at: expiresAt } = session;
  let closed = false;
  let reading = Promise.resolve();

  const close = (retryMs?: number) => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unregister();
    if (retryMs !== undefined) res.write(`retry: ${retryMs}\n\n`);
    res.end();
  };

  const pump = () => {
    reading = reading.then(async () => {
      if (closed) return;
      const changes = await listSessionChanges(deps.db, sessionId, stream.seq);
      for (const change of changes) {
        const data = JSON.parse(change.metadata) as Record<string, unknown>;
        res.write(`id: ${change.seq}\nevent: ${change.type}\ndata: ${JSON.stringify({ sessionId, ...data })}\n\n`);
        stream.seq = change.seq;
        if (isFinalStreamEvent(change.type, data, deps.verificationEnabled)) {
          close();
          return;
        }
      }
    }).catch(() => close());
  };

  const beat = () => {
    if (closed) return; // closed while its tick was under way
    res.write(': heartbeat\n\n');
    // The sweep ends expired sessions too, but only every minute: an open stream need not wait.
    if (!ENDED_WITHOUT_CONNECTION.has(statusAtOpen) && isPastExpiry({ expires_at: expiresAt }, deps.clock())) {
      deps
        .findSession(sessionId)
        .then((current) => current && deps.expireIfDue(current))
        .catch(() => undefined);
    }
  };

  // Plain data, no getter: V8 keeps an object literal with an accessor in dictionary mode (~0.4 KiB a stream).
  const stream: OpenStream = { sessionId, seq: lastEventId(req), pump, beat, close };
  const fresh = stream.seq === 0;
  // A fresh subscriber first learns where the session stands.
  if (fresh) res.write(`event: snapshot\ndata: ${JSON.stringify({ sessionId, status: statusAtOpen })}\n\n`);
  const unsubscribe = deps.notifier.subscribe(sessionId, pump);
  const unregister = registry.add(stream);
  registry.startHeartbeat(deps.heartbeatMs, (streams) => catchUpStreams(deps.db, streams));
  req.on('close', () => close());
  if (ENDED_WITHOUT_CONNECTION.has(statusAtOpen) && fresh) {
    pump();
    reading = reading.then(() => close());
    return;
  }
  pump();
}
