import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { LISTENER_APPLICATION_NAME } from '../../src/notify/pg-listener.js';
import { createSessionNotifier, sessionChannel, type SessionNotifier } from '../../src/notify/session-notifier.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';

/** Resolves when `listener` has been called `count` times; the test timeout bounds the wait. */
function counter() {
  let calls = 0;
  const waiters: [number, () => void][] = [];
  return {
    listener: () => {
      calls += 1;
      for (const [target, resolve] of waiters) if (calls >= target) resolve();
    },
    calls: () => calls,
    reach: (target: number) => new Promise<void>((resolve) => (calls >= target ? resolve() : waiters.push([target, resolve]))),
  };
}

describe('session notifier on sqlite (in-process)', () => {
  let database: TestDatabase;
  let notifier: SessionNotifier;
  afterEach(async () => {
    await notifier?.close();
    await database?.destroy();
    // Cleared so a failed set-up in the next test does not destroy this database twice.
    database = undefined as never;
  });

  it('when a session is published, then its subscribers are called and others are not; unsubscribe stops delivery', async () => {
    database = await createTestDatabase('sqlite');
    notifier = createSessionNotifier(database, captureLogs().logger);
    await notifier.ready();
    const a = counter();
    const b = counter();
    const unsubscribe = notifier.subscribe('cs_a', a.listener);
    notifier.subscribe('cs_b', b.listener);
    await notifier.publish('cs_a');
    expect([a.calls(), b.calls()]).toEqual([1, 0]);
    unsubscribe();
    await notifier.publish('cs_a');
    expect(a.calls()).toBe(1);
  });

  it('when a thousand streams watch one session, then all are called without listener warnings', async () => {
    database = await createTestDatabase('sqlite');
    notifier = createSessionNotifier(database, captureLogs().logger);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const counters = Array.from({ length: 1000 }, () => counter());
      for (const c of counters) notifier.subscribe('cs_busy', c.listener);
      await notifier.publish('cs_busy');
      // Every listener is called (a missing one times the test out); none twice.
      await Promise.all(counters.map((c) => c.reach(1)));
      expect(counters.every((c) => c.calls() === 1)).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('when one listener throws, then the others still run and the error is logged', async () => {
    database = await createTestDatabase('sqlite');
    const logs = captureLogs();
    notifier = createSessionNotifier(database, logs.logger);
    const after = counter();
    notifier.subscribe('cs_a', () => {
      throw new Error('stream already closed');
    });
    notifier.subscribe('cs_a', after.listener);
    await notifier.publish('cs_a');
    expect(after.calls()).toBe(1);
    expect(logs.text()).toContain('stream already closed');
  });

  it('when closed, then later publishes reach nobody', async () => {
    database = await createTestDatabase('sqlite');
    notifier = createSessionNotifier(database, captureLogs().logger);
    const a = counter();
    notifier.subscribe('cs_a', a.listener);
    await notifier.close();
    await notifier.publish('cs_a');
    expect(a.calls()).toBe(0);
  });
});

describe.runIf(testDialects.includes('postgres'))('session notifier on postgres (two instances)', () => {
  const url = process.env.TEST_DATABASE_URL!;
  let database: TestDatabase;
  let second: DatabaseHandle | undefined;
  const notifiers: SessionNotifier[] = [];

  afterEach(async () => {
    for (const notifier of notifiers.splice(0)) await notifier.close();
    await second?.close();
    second = undefined;
    await database?.destroy();
    // Cleared so a failed set-up in the next test does not destroy this database twice.
    database = undefined as never;
  });

  /** Two "BFF processes": separate pools and notifiers over one schema. */
  async function twoInstances() {
    database = await createTestDatabase('postgres');
    second = await createDatabase({ dialect: 'postgres', url }, { pgSchema: database.pgSchema!, poolSize: 2 });
    const one = createSessionNotifier(database, captureLogs().logger);
    const two = createSessionNotifier(second, captureLogs().logger);
    notifiers.push(one, two);
    await Promise.all([one.ready(), two.ready()]);
    return { one, two };
  }

  async function listenerBackends(channel: string): Promise<number[]> {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const result = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where application_name = $1 and query = $2`,
        [LISTENER_APPLICATION_NAME, `LISTEN ${pg.escapeIdentifier(channel)}`],
      );
      return result.rows.map((row) => row.pid);
    } finally {
      await admin.end();
    }
  }

  it('when one instance publishes, then a subscriber on the other is called, and on the publisher too', async () => {
    const { one, two } = await twoInstances();
    const remote = counter();
    const local = counter();
    const otherSession = counter();
    two.subscribe('cs_a', remote.listener);
    one.subscribe('cs_a', local.listener);
    two.subscribe('cs_b', otherSession.listener);
    await one.publish('cs_a');
    await Promise.all([remote.reach(1), local.reach(1)]);
    await two.publish('cs_b');
    await otherSession.reach(1);
    expect([remote.calls(), local.calls(), otherSession.calls()]).toEqual([1, 1, 1]);
  });

  it('when a subscriber unsubscribes, then later publishes no longer reach it', async () => {
    const { one, two } = await twoInstances();
    const gone = counter();
    const stays = counter();
    const unsubscribe = two.subscribe('cs_a', gone.listener);
    two.subscribe('cs_a', stays.listener);
    await one.publish('cs_a');
    await Promise.all([gone.reach(1), stays.reach(1)]);
    unsubscribe();
    await one.publish('cs_a');
    // The remaining subscriber seeing the second signal proves it was delivered before we look.
    await stays.reach(2);
    expect(gone.calls()).toBe(1);
  });

  it('when another schema publishes the same session id, then this schema hears nothing', async () => {
    const { one, two } = await twoInstances();
    const other = await createTestDatabase('postgres');
    try {
      const stranger = createSessionNotifier(other, captureLogs().logger);
      notifiers.push(stranger);
      expect(sessionChannel(other.pgSchema)).not.toBe(sessionChannel(database.pgSchema));
      const heard = counter();
      const marker = counter();
      two.subscribe('cs_a', heard.listener);
      two.subscribe('cs_marker', marker.listener);
      await stranger.ready();
      await stranger.publish('cs_a');
      // Positive barrier: a genuine signal published on this schema after the stranger's. PostgreSQL
      // delivers notifications to a listener in commit order, so once two hears the marker it would
      // have heard the stranger's signal first, had it been on its channel.
      await one.publish('cs_marker');
      await marker.reach(1);
      expect(heard.calls()).toBe(0);
    } finally {
      await notifiers.pop()?.close();
      await other.destroy();
    }
  });

  it('when the LISTEN connection is killed, then it reconnects, wakes every subscriber, and delivers again', async () => {
    const { one, two } = await twoInstances();
    const watcher = counter();
    two.subscribe('cs_a', watcher.listener);
    const before = await listenerBackends(sessionChannel(database.pgSchema));
    expect(before).toHaveLength(2);

    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [before]);
    await admin.end();

    // The reconnect itself signals (notifications may have been missed meanwhile)…
    await watcher.reach(1);
    // …and new notifications flow again.
    await one.publish('cs_a');
    await watcher.reach(2);
  });

  it('when closed, then the LISTEN connection ends', async () => {
    const { one, two } = await twoInstances();
    const channel = sessionChannel(database.pgSchema);
    expect(await listenerBackends(channel)).toHaveLength(2);
    await one.close();
    await two.close();
    // The server may list a backend for a moment after the client hung up.
    let remaining = await listenerBackends(channel);
    for (let poll = 0; poll < 50 && remaining.length > 0; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      remaining = await listenerBackends(channel);
    }
    expect(remaining).toEqual([]);
  });
});
