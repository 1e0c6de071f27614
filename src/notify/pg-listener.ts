/**
 * One dedicated PostgreSQL connection that LISTENs on a channel and hands each payload to
 * `onNotification`. Outside the pool on purpose: a pooled client would be returned and reused,
 * losing the LISTEN, or would hold a pool slot forever.
 *
 * If the connection drops it reconnects with capped exponential backoff and calls `onReconnect`,
 * because notifications sent during the gap are lost: subscribers must re-read their state.
 */
import pg from 'pg';
import type { Logger } from '../logger.js';

export interface PgListener {
  /** Resolves once LISTEN is active (after the first successful connection). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export const LISTENER_APPLICATION_NAME = 'ucw-bff-notify';

export function startPgListener(options: {
  connection: pg.ClientConfig;
  channel: string;
  logger: Logger;
  onNotification: (payload: string) => void;
  onReconnect: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
}): PgListener {
  const { logger, channel } = options;
  const minDelayMs = options.minDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let everConnected = false;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));

  const scheduleReconnect = () => {
    if (closed || timer) return;
    failures += 1;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(failures - 1, 20));
    // Jittered so several instances losing the same server do not reconnect in lockstep.
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delayMs);
    timer.unref();
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ ...options.connection, application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (client === next) client = undefined;
      if (closed) return;
      logger.warn({ channel, error: error?.message }, 'session notification listener lost its connection; reconnecting');
      next.end().catch(() => undefined);
      scheduleReconnect();
    };
    next.on('error', onLost);
    next.on('end', () => onLost());
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload) options.onNotification(message.payload);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      onLost(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (closed || lost) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    failures = 0;
    if (everConnected) options.onReconnect();
    everConnected = true;
    markReady();
  };

  void connect();

  return {
    ready: () => readyPromise,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
