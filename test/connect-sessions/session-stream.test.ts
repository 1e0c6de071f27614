import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.js';
import { buildDependencies } from '../../src/dependencies.js';
import { loadConfig } from '../../src/config.js';
import { catchUpStreams, StreamRegistry, type OpenStream } from '../../src/events/session-stream.js';
import { appendEvents } from '../../src/events/event-log.repository.js';
import { createTestDatabase, testDialects } from '../helpers/databases.js';
import { bearer, createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { captureLogs } from '../helpers/logs.js';
import { openSse } from '../helpers/sse.js';
import { buildTestApp, testEnv, type TestApp } from '../helpers/test-app.js';

const listen = async (app: Express) => {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

describe.each(testDialects)('GET /connect-sessions/:id/stream on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let server: Server;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    ({ server, url: base } = await listen(t.app));
  });
  afterAll(async () => {
    t.deps.streams.closeAll();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('when the session progresses, then the stream sends each change in order and ends at the terminal one', async () => {
    const created = await createConnectUrl(t.app, 'sse-user', { jobTypes: ['transactions'] });
    const stream = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('sse-user') });
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await stream.until((events) => events.length >= 1);
    await relay(t.app, created.body.url, { type: 'connect/loaded', metadata: { initial_step: 'search' } });
    await relay(t.app, created.body.url, v1Connected('MBR-sse'));
    await stream.finished();
    expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'status', 'status', 'connected']);
    expect(stream.events.map((e) => e.data.status ?? null)).toEqual(['created', 'opened', 'connected', null]);
    expect(stream.events[3]!.data.connection).toMatchObject({ status: 'connected', aggregator: 'sophtron' });
    expect(JSON.stringify(stream.events)).not.toContain('MBR-sse');
    const ids = stream.events.slice(1).map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('when a client reconnects with Last-Event-ID, then it gets only what it missed', async () => {
    const created = await createConnectUrl(t.app, 'resume-user', { jobTypes: ['transactions'] });
    await relay(t.app, created.body.url, { type: 'connect/loaded', metadata: {} });
    await relay(t.app, created.body.url, v1Connected('MBR-resume'));
    const auth = { Authorization: await bearer('resume-user') };
    const first = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, auth);
    await first.finished();
    const statusOpened = first.events.find((e) => e.event === 'status' && e.data.status === 'opened')!;
    const resumed = await openSse(`${base}/connect-sessions/${created.body.sessionId}/stream`, { ...auth, 'Last-Event-ID': statusOpened.id! });
    await resumed.finished();
    expect(resumed.events.map((e) => [e.event, e.data.status ?? null])).toEqual([
      ['status', 'connected'],
      ['connected', null],
    ]);
  });

  it("when another user asks for the stream, then 404", async () => {
    const created = await createConnectUrl(t.app, 'private-user', { jobTypes: ['transactions'] });
    const res = await fetch(`${base}/connect-sessions/${created.body.sessionId}/stream`, { headers: { Authorization: await bearer('nosy-user') } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe.runIf(testDialects.includes('postgres'))('SSE across two BFF instances on one PostgreSQL', () => {
  it('when an event is ingested on instance A, then a stream held open on instance B receives it', async () => {
    const database = await createTestDatabase('postgres');
    const config = loadConfig(testEnv());
    const instances = await Promise.all(
      [0, 1].map(async () => {
        const deps = await buildDependencies(config, captureLogs().logger, { database: { ...database, close: async () => undefined } });
        const app = createApp(deps);
        const { server, url } = await listen(app);
        return { deps, app, server, url };
      }),
    );
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    try {
      const created = await createConnectUrl(a.app, 'multi-user', { jobTypes: ['transactions'] });
      const stream = await openSse(`${b.url}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('multi-user') });
      await stream.until((events) => events.some((e) => e.event === 'snapshot'));
      await relay(a.app, created.body.url, v1Connected('MBR-multi'));
      await stream.until((events) => events.some((e) => e.event === 'connected'), 5_000);
      expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'status', 'connected']);
    } finally {
      for (const instance of instances) {
        instance.deps.streams.closeAll();
        await new Promise((resolve) => instance.server.close(resolve));
        await instance.deps.close();
      }
      await database.destroy();
    }
  });
});

describe.each(testDialects)('SSE catch-up without a signal on %s', (dialect) => {
  const systemEvent = (sessionId: string, key: string, status: string) => ({
    dedupe_key: key,
    user_id: 'catch-up-user',
    session_id: sessionId,
    connection_id: null,
    type: 'status',
    source: 'system' as const,
    status_code: null,
    metadata: JSON.stringify({ status }),
    created_at: new Date().toISOString(),
  });

  it('when a change reaches the log but its signal is lost, then the open stream still gets it at the next heartbeat interval', async () => {
    const t = await buildTestApp({ dialect, env: { SSE_HEARTBEAT_SECONDS: '1' } });
    const { server, url } = await listen(t.app);
    try {
      const created = await createConnectUrl(t.app, 'catch-up-user', { jobTypes: ['transactions'] });
      const stream = await openSse(`${url}/connect-sessions/${created.body.sessionId}/stream`, { Authorization: await bearer('catch-up-user') });
      await stream.until((events) => events.length >= 1);
      // Written as an instance that died between commit and notify would leave it: no signal.
      await appendEvents(t.deps.database.db, [systemEvent(created.body.sessionId, 'lost-signal', 'opened')]);
      await stream.until((events) => events.some((e) => e.event === 'status' && e.data.status === 'opened'), 30_000);
      expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'status']);
    } finally {
      t.deps.streams.closeAll();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    }
  }, 60_000);

  it('when streams are checked, then one read finds exactly the ones behind their session log and only those are pumped', async () => {
    const database = await createTestDatabase(dialect);
    try {
      await appendEvents(database.db, [systemEvent('cs_behind', 'b1', 'opened')]);
      await appendEvents(database.db, [systemEvent('cs_behind', 'b2', 'connected')]);
      await appendEvents(database.db, [systemEvent('cs_current', 'c1', 'opened')]);
      const [current] = await database.db.selectFrom('connection_events').select('seq').where('dedupe_key', '=', 'c1').execute();
      const pumped: string[] = [];
      const stream = (name: string, sessionId: string, seq: number) => ({ sessionId, seq, pump: () => pumped.push(name), beat: () => undefined, close: () => undefined });
      await catchUpStreams(database.db, [
        stream('behind', 'cs_behind', 0),
        stream('current', 'cs_current', current!.seq),
        stream('quiet', 'cs_quiet', 0),
        stream('behind, second tab', 'cs_behind', 0),
      ]);
      expect(pumped).toEqual(['behind', 'behind, second tab']);
    } finally {
      await database.destroy();
    }
  });
});

describe('StreamRegistry', () => {
  it('when streams are open, then one timer beats every one of them each interval and catches up, and stops with the last stream', async () => {
    vi.useFakeTimers();
    try {
      const registry = new StreamRegistry();
      const beats: string[] = [];
      const caughtUp: string[][] = [];
      const stream = (sessionId: string): OpenStream => ({ sessionId, seq: 0, pump: () => undefined, beat: () => beats.push(sessionId), close: () => undefined });
      const leaveA = registry.add(stream('a'));
      const leaveB = registry.add(stream('b'));
      const catchUp = async (streams: readonly OpenStream[]) => void caughtUp.push(streams.map((s) => s.sessionId));
      registry.startHeartbeat(1_000, catchUp);
      registry.startHeartbeat(1_000, catchUp); // idempotent: still one timer
      await vi.advanceTimersByTimeAsync(999);
      expect(beats).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(beats).toEqual(['a', 'b']);
      expect(caughtUp).toEqual([['a', 'b']]);
      leaveA();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(beats).toEqual(['a', 'b', 'b']);
      leaveB();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('when a tick has thousands of streams, then other work gets turns of the event loop between its share of beats', async () => {
    const registry = new StreamRegistry();
    let beats = 0;
    const seenByOtherWork: number[] = [];
    const leave = Array.from({ length: 2_000 }, (_, i) =>
      registry.add({
        sessionId: `s${i}`,
        seq: 0,
        pump: () => undefined,
        // The first beat queues other work, as a request arriving mid-tick would be.
        beat: () => void (beats++ === 0 && setImmediate(() => seenByOtherWork.push(beats))),
        close: () => undefined,
      }),
    );
    registry.startHeartbeat(10, async () => undefined);
    await vi.waitFor(() => expect(beats).toBeGreaterThanOrEqual(2_000));
    leave.forEach((remove) => remove());
    // That work ran after a share of the beats, not after all 2,000 of them.
    expect(seenByOtherWork[0]).toBeGreaterThan(0);
    expect(seenByOtherWork[0]).toBeLessThan(2_000);
  });
});
