import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { createConnectUrl } from './helpers/flows.js';
import { buildTestApp, type TestApp } from './helpers/test-app.js';

describe.each(testDialects)('maintenance on %s', (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-26T06:00:00.000Z');
  beforeAll(async () => {
    t = await buildTestApp({ dialect, clock: () => now, env: { WEBHOOK_ID_RETENTION_HOURS: '24', SESSION_TTL_SECONDS: '600' } });
  });
  afterAll(() => t.close());

  it('when it runs, then webhook ids past retention are pruned and open sessions past expiry are expired', async () => {
    await t.database.db
      .insertInto('inbound_webhooks')
      .values([
        { webhook_id: 'msg_old', received_at: '2026-11-25T06:09:59.000Z' },
        { webhook_id: 'msg_recent', received_at: '2026-11-25T06:10:01.000Z' },
      ])
      .execute();
    const session = await createConnectUrl(t.app, 'maint-user', { jobTypes: ['transactions'] });
    now = new Date('2026-11-26T06:10:00.000Z');
    await t.deps.maintenance.runOnce();
    const ids = await t.database.db.selectFrom('inbound_webhooks').select('webhook_id').execute();
    expect(ids).toEqual([{ webhook_id: 'msg_recent' }]);
    const row = await t.database.db.selectFrom('connect_sessions').select('status').where('id', '=', session.body.sessionId).executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
  });
});
