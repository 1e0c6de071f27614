import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/connections/secret-box.js';
import { verifyWebhook } from '../../src/lib/standard-webhooks.js';
import { testDialects } from '../helpers/databases.js';
import { createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { buildTestApp, FRONTEND_ORIGIN, type TestApp } from '../helpers/test-app.js';

const KEY = `k2026:${randomBytes(32).toString('base64')}`;
const HOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('secret box', () => {
  it('when a value is sealed, then only the same key opens it and tampering is detected', () => {
    const box = createSecretBox(KEY);
    const sealed = box.seal('access-sandbox-123');
    expect(sealed.keyId).toBe('k2026');
    expect(sealed.value).not.toContain('access-sandbox');
    expect(box.open(sealed.value, sealed.keyId)).toBe('access-sandbox-123');
    expect(box.seal('access-sandbox-123').value).not.toBe(sealed.value);
    const flipped = `${sealed.value.slice(0, -2)}${sealed.value.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(() => box.open(flipped, sealed.keyId)).toThrow();
    expect(() => createSecretBox(`other:${randomBytes(32).toString('base64')}`).open(sealed.value, sealed.keyId)).toThrow(/not configured/);
    expect(box.lookupKey('mx', 'a')).toBe(box.lookupKey('mx', 'a'));
    expect(box.lookupKey('mx', 'a')).not.toBe(box.lookupKey('sophtron', 'a'));
  });
});

describe.each(testDialects)('connections with DATA_ENCRYPTION_KEY and a platform webhook on %s', (dialect) => {
  let t: TestApp;
  let receiver: Server;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t = await buildTestApp({
      dialect,
      sandbox: { version: 1 },
      env: {
        DATA_ENCRYPTION_KEY: KEY,
        PLATFORM_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ucw-events`,
        PLATFORM_WEBHOOK_SECRET: HOOK_SECRET,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('when a connection is recorded, then its aggregator ids are encrypted at rest and a refresh still finds them', async () => {
    const host = await createConnectUrl(t.app, 'enc-user', { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, host.body.url, v1Connected('MBR-plain-secret', { user_guid: 'USR-plain-secret', ucpInstitutionId: 'sandbox-bank' }));
    const row = await t.database.db.selectFrom('connections').selectAll().where('user_id', '=', 'enc-user').executeTakeFirstOrThrow();
    expect(row.encryption_key_id).toBe('k2026');
    expect(JSON.stringify(row)).not.toMatch(/plain-secret/);

    const refresh = await createConnectUrl(t.app, 'enc-user', { jobTypes: ['transactions'], connectionId: relayed.body.forward.metadata.connectionId, embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
    expect(new URL(refresh.body.url).searchParams.get('connectionId')).toBe('MBR-plain-secret');
  });

  it('when the same user connects the same institution twice, then the second is marked duplicateOf the first', async () => {
    const first = await relay(t.app, (await createConnectUrl(t.app, 'twice', { jobTypes: ['transactions'] })).body.url, v1Connected('MBR-twice-1', { ucpInstitutionId: 'mx-bank' }));
    const second = await relay(t.app, (await createConnectUrl(t.app, 'twice', { jobTypes: ['transactions'] })).body.url, v1Connected('MBR-twice-2', { ucpInstitutionId: 'mx-bank' }));
    const rows = await t.database.db.selectFrom('connections').select(['id', 'duplicate_of']).where('user_id', '=', 'twice').execute();
    const byId = Object.fromEntries(rows.map((r) => [r.id, r.duplicate_of]));
    expect(byId).toEqual({ [first.body.forward.metadata.connectionId]: null, [second.body.forward.metadata.connectionId]: first.body.forward.metadata.connectionId });
  });

  it('when a connection is made, then the platform receives one signed connection.connected without secrets', async () => {
    received.length = 0;
    await t.database.db.deleteFrom('outbox').execute();
    const host = await createConnectUrl(t.app, 'hooked', { jobTypes: ['transactions'] });
    const relayed = await relay(t.app, host.body.url, v1Connected('MBR-hooked', { ucpInstitutionId: 'sandbox-bank' }));
    expect(await t.deps.outbox!.runOnce()).toBe(1);
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(() =>
      verifyWebhook({ headers: delivery!.headers, rawBody: Buffer.from(delivery!.body), secrets: [HOOK_SECRET], now: new Date() }),
    ).not.toThrow();
    const payload = JSON.parse(delivery!.body);
    expect(payload).toMatchObject({
      type: 'connection.connected',
      data: { userId: 'hooked', sessionId: host.body.sessionId, connection: { id: relayed.body.forward.metadata.connectionId, status: 'connected' } },
    });
    expect(delivery!.body).not.toContain('MBR-hooked');
    expect(await t.deps.outbox!.runOnce()).toBe(0);
  });
});
