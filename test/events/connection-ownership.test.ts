import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { createConnectUrl, relay } from '../helpers/flows.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const connected = (aggregator: unknown, connectionId: string) => ({
  type: 'connect/memberConnected',
  metadata: { aggregator, connectionId, ucpInstitutionId: 'inst-own' },
});

describe.each(testDialects)('one owner per aggregator connection on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { WEBHOOK_SECRETS: SECRET } });
  });
  afterAll(() => t.close());

  const hostUrl = async (userId: string) => {
    const res = await createConnectUrl(t.app, userId, { jobTypes: ['transactions'] });
    expect(res.status).toBe(201);
    return res.body.url as string;
  };
  const signedEvent = (userId: string, event: { type: string; metadata: Record<string, unknown> }, id: string) => {
    const body = JSON.stringify({ ...event, userId });
    const headers = signWebhook({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET });
    return request(t.app).post('/events').set('Content-Type', 'application/json').set(headers as unknown as Record<string, string>).send(body);
  };
  const rowsFor = (lookupAggregator: string, connectionId: string) =>
    t.database.db.selectFrom('connections').select(['id', 'user_id', 'aggregator']).where('lookup_key', '=', t.deps.secretBox.lookupKey(lookupAggregator, connectionId)).execute();
  const claimLines = () => t.logs.lines().filter((line) => line.includes('connection_claim_refused'));

  it('when another user relays the same connection under any spelling of the aggregator, then every attempt is a 409 and a security log line', async () => {
    const bob = await relay(t.app, await hostUrl('bob'), connected('mx', 'MBR-case-1'));
    expect(bob.status).toBe(200);
    const bobConnection = bob.body.forward.metadata.connectionId as string;
    const before = claimLines().length;
    const spellings = ['MX', 'Mx', ' mx ', '\tmX\n', 'mx'];
    for (const spelling of spellings) {
      const alice = await relay(t.app, await hostUrl('alice'), connected(spelling, 'MBR-case-1'));
      expect([spelling, alice.status, alice.body.code]).toEqual([spelling, 409, 'conflict']);
    }
    // The same through signed /events, the other way in.
    const viaWebhook = await signedEvent('alice', connected('MX', 'MBR-case-1'), 'msg_case_1');
    expect([viaWebhook.status, viaWebhook.body.code]).toEqual([409, 'conflict']);
    expect(claimLines().length - before).toBe(spellings.length + 1);
    expect(await t.database.db.selectFrom('connections').select('id').where('user_id', '=', 'alice').execute()).toEqual([]);
    expect(await rowsFor('mx', 'MBR-case-1')).toEqual([{ id: bobConnection, user_id: 'bob', aggregator: 'mx' }]);
  });

  it('when the owner relays the aggregator in capitals, then it is stored lower-case and is the same connection', async () => {
    const first = await relay(t.app, await hostUrl('carol'), connected('Sophtron', 'MBR-case-2'));
    const second = await relay(t.app, await hostUrl('carol'), connected(' SOPHTRON', 'MBR-case-2'));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.forward.metadata).toMatchObject({ connectionId: first.body.forward.metadata.connectionId, aggregator: 'sophtron' });
    expect(await rowsFor('sophtron', 'MBR-case-2')).toEqual([{ id: first.body.forward.metadata.connectionId, user_id: 'carol', aggregator: 'sophtron' }]);
  });

  it.each([
    ['m x'],
    ['mx!'],
    ['a'.repeat(65)],
    ['ＭＸ'], // full-width letters
    ['\u212Aakoya'], // Kelvin sign: lower-cases to an ASCII "k"
    ['mx\u0000'],
    [''],
    [42],
  ])('when the aggregator is %j, then the event is refused with a 400 naming the field and nothing is stored', async (aggregator) => {
    const res = await relay(t.app, await hostUrl('dave'), connected(aggregator, 'MBR-bad-agg'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'metadata.aggregator' }] });
    expect(await t.database.db.selectFrom('connections').select('id').where('user_id', '=', 'dave').execute()).toEqual([]);
  });

  it('when 50 deliveries of a new connection race (relay by one user, signed /events by another), then one owner wins, the rest are 2xx duplicates or 409s, never a 5xx', async () => {
    const urls = await Promise.all(Array.from({ length: 25 }, () => hostUrl('racer-a')));
    const before = claimLines().length;
    const deliveries = [
      ...urls.map((url) => relay(t.app, url, connected('mx', 'MBR-race'))),
      ...Array.from({ length: 25 }, (_, i) => signedEvent('racer-b', connected(i % 2 === 0 ? 'mx' : 'MX', 'MBR-race'), `msg_race_${i}`)),
    ];
    const results = await Promise.all(deliveries);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const rows = await rowsFor('mx', 'MBR-race');
    expect(rows).toHaveLength(1);
    const owner = rows[0]!.user_id;
    const ownerResults = owner === 'racer-a' ? results.slice(0, 25) : results.slice(25);
    const otherResults = owner === 'racer-a' ? results.slice(25) : results.slice(0, 25);
    expect(ownerResults.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(otherResults.map((r) => [r.status, r.body.code])).toEqual(Array(25).fill([409, 'conflict']));
    expect(claimLines().length - before).toBe(25);
  });

  it('when 50 deliveries of a new connection by the same user race, then exactly one connection exists and all answers are 2xx', async () => {
    const url = await hostUrl('racer-c');
    const results = await Promise.all([
      ...Array.from({ length: 25 }, () => relay(t.app, url, connected('finicity', 'MBR-race-same'))),
      ...Array.from({ length: 25 }, (_, i) => signedEvent('racer-c', connected('Finicity', 'MBR-race-same'), `msg_same_${i}`)),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const rows = await rowsFor('finicity', 'MBR-race-same');
    expect(rows).toEqual([{ id: expect.stringMatching(/^conn_/), user_id: 'racer-c', aggregator: 'finicity' }]);
  });
});
