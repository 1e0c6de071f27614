import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUcwBffClient } from '../../examples/client/index.js';
import { generateApiTypes } from '../../examples/client/generate.js';
import { startWebhookReceiver, type ConnectionEvent, type WebhookReceiver } from '../../examples/webhook-receiver.js';
import { CONNECT_DTS } from '../../src/generated/browser-bundles.js';
import { signWebhook } from '../../src/lib/standard-webhooks.js';
import { userToken } from '../helpers/jwt.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, FRONTEND_ORIGIN, SANDBOX_BEARER, type TestApp } from '../helpers/test-app.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe.each(testDialects)('on %s', (dialect) => {
  describe('examples/ against the sandbox', () => {
    let t: TestApp;
    let server: Server;
    let bffUrl: string;
    let receiver: WebhookReceiver;
    const received: { id: string; event: ConnectionEvent }[] = [];

    beforeAll(async () => {
      receiver = await startWebhookReceiver({ secrets: [SECRET], onEvent: (event, id) => void received.push({ id, event }) });
      t = await buildTestApp({
        dialect,
        sandbox: { version: 2 },
        env: { PLATFORM_WEBHOOK_URL: receiver.url, PLATFORM_WEBHOOK_SECRET: SECRET, UCW_DATA_ENDPOINTS: 'true' },
      });
      server = t.app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      bffUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await t?.close();
      await receiver?.close();
    });

    it('when a connection is made through the typed client, then the example receiver gets verified connected, verified and data_ready webhooks', async () => {
      const token = await userToken('example-user');
      const bff = createUcwBffClient({ baseUrl: bffUrl, token: () => token });

      const { data: session, error } = await bff.POST('/connect-url', { body: { jobTypes: ['transactions'], embed: 'direct', targetOrigin: FRONTEND_ORIGIN } });
      expect(error).toBeUndefined();
      // What a person does in the widget, through the simulator's own API (as docs/sandbox.md does from a shell).
      const page = await fetch(session!.url);
      const simSession = /data-session="([^"]+)"/.exec(await page.text())![1]!;
      const simulated = await fetch(`${new URL(session!.url).origin}/api/sim/sessions/${simSession}/connect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SANDBOX_BEARER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ institutionId: 'sandbox-bank' }),
      });
      const { events } = (await simulated.json()) as { events: { type: string; metadata: Record<string, unknown> }[] };
      for (const event of events) {
        const relayed = await bff.POST('/connect/{sessionId}/events', { params: { path: { sessionId: session!.sessionId } }, body: event });
        expect(relayed.response.status).toBe(200);
      }

      const { data: list } = await bff.GET('/connections');
      const connectionId = list!.connections[0]!.id;
      await t.deps.outbox!.runOnce();
      await t.deps.jobs.runOnce();
      await t.deps.outbox!.runOnce();
      expect(received.map(({ event }) => [event.type, event.data.userId, event.data.connection.id])).toEqual([
        ['connection.connected', 'example-user', connectionId],
        ['connection.verified', 'example-user', connectionId],
        ['connection.data_ready', 'example-user', connectionId],
      ]);
      const { data: connection } = await bff.GET('/connections/{id}', { params: { path: { id: connectionId } } });
      expect(connection).toMatchObject({ status: 'connected', verified: true, dataReady: true });
    });

    it('when a delivery is forged, stale or redelivered, then the example receiver refuses it or handles it once', async () => {
      const before = received.length;
      const body = JSON.stringify({ type: 'connection.deleted', timestamp: new Date().toISOString(), data: { userId: 'x', connection: { id: 'conn_x' } } });
      const post = (headers: object) => fetch(receiver.url, { method: 'POST', headers: { "content-type": "application/json", ...(headers as Record<string, string>) }, body });
      const now = Math.floor(Date.now() / 1000);
      expect((await post(signWebhook({ id: 'msg_forged', timestamp: now, body, secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAA' }))).status).toBe(401);
      expect((await post(signWebhook({ id: 'msg_stale', timestamp: now - 3600, body, secret: SECRET }))).status).toBe(401);
      const genuine = signWebhook({ id: 'msg_once', timestamp: now, body, secret: SECRET });
      expect([(await post(genuine)).status, (await post(genuine)).status]).toEqual([204, 204]);
      expect(received.slice(before).map(({ id }) => id)).toEqual(['msg_once']);
    });

    it('when the API changes, then the committed typed client types are regenerated (npm run openapi:types)', async () => {
      expect(readFileSync(new URL('../../examples/client/api-types.ts', import.meta.url), 'utf8')).toBe(await generateApiTypes());
    });

    it('when connect.js types change, then the React example’s copy of connect.d.ts follows', () => {
      expect(readFileSync(new URL('../../examples/react/connect.d.ts', import.meta.url), 'utf8')).toBe(CONNECT_DTS);
    });
  });
});
