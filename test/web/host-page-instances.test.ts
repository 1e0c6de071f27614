import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { buildDependencies, type Dependencies } from '../../src/dependencies.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';
import { createSession, pageData } from './host-page-helpers.js';

// Two instances on one database: each knows only the sessions it created or has opened before,
// so the other takes the read path. Both must answer a link alike, and count every load.
describe.each(testDialects)('host page across two instances on %s', (dialect) => {
  let a: TestApp;
  let bDeps: Dependencies;
  let b: ReturnType<typeof createApp>;

  beforeAll(async () => {
    a = await buildTestApp({ dialect, sandbox: { version: 1 }, env: { SESSION_MAX_LOADS: '3' } });
    bDeps = await buildDependencies(a.config, a.logs.logger, { database: a.database });
    b = createApp(bDeps);
  });
  afterAll(async () => {
    await bDeps.close();
    await a.close();
  });

  it('when a link made on one instance opens on both, then both serve it and the load budget is shared', async () => {
    const session = await createSession(a.app, 'two-instance-user', { presentation: 'popup' });
    const first = await request(b).get(session.path); // b has never seen it
    const second = await request(a.app).get(session.path); // a made it
    const third = await request(b).get(session.path); // b has seen it now
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(pageData(third.text).sessionId).toBe(session.sessionId);
    const fourth = await request(a.app).get(session.path);
    expect(fourth.status).toBe(429);
    const row = await a.deps.connectSessions.findById(session.sessionId);
    expect([row?.status, row?.load_count]).toEqual(['opened', 3]);
  });

  it('when a link is altered, then both instances refuse it, whether or not they know the session', async () => {
    const session = await createSession(a.app, 'two-instance-user', { presentation: 'popup' });
    const altered = session.path.replace(/sig=([^&]+)/, (_m, sig: string) => `sig=${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`);
    const fromB = await request(b).get(altered);
    const fromA = await request(a.app).get(altered);
    expect([fromA.status, fromB.status]).toEqual([403, 403]);
    const row = await a.deps.connectSessions.findById(session.sessionId);
    expect(row?.load_count).toBe(0);
  });
});
