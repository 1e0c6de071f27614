/**
 * A platform backend's receiver for ucw-bff's webhooks (Standard Webhooks), dependency-free.
 *
 *   PLATFORM_WEBHOOK_SECRET=whsec_… PORT=4000 npx tsx examples/webhook-receiver.ts
 *   # and run ucw-bff with PLATFORM_WEBHOOK_URL=http://localhost:4000/webhooks/ucw and the same secret
 *
 * It verifies each delivery over the raw bytes, refuses stale or forged ones with 401, answers a
 * redelivery (same webhook-id) 200 without handling it twice, and hands each event to `onEvent`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectionEvent {
  type: 'connection.connected' | 'connection.refreshed' | 'connection.verified' | 'connection.data_ready' | 'connection.needs_attention' | 'connection.deleted';
  timestamp: string;
  data: { userId: string; sessionId?: string; connection: { id: string; status: string; verified: boolean; dataReady: boolean; institutionId: string | null } };
}

const TOLERANCE_SECONDS = 5 * 60;

/** Throws unless one of the `v1,` signatures matches one of the secrets (several during a rotation). */
export function verifyWebhook(secrets: readonly string[], headers: IncomingHttpHeaders, rawBody: Buffer, nowSeconds = Date.now() / 1000): ConnectionEvent {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') throw new Error('missing webhook headers');
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) throw new Error('timestamp outside the tolerance');
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), rawBody]);
  const matches = secrets.some((secret) => {
    const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(signed).digest();
    return signatures.split(' ').some((entry) => {
      const [version, value] = entry.split(',');
      const given = Buffer.from(value ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
  });
  if (!matches) throw new Error('no matching signature');
  return JSON.parse(rawBody.toString('utf8')) as ConnectionEvent;
}

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  secrets: readonly string[];
  onEvent: (event: ConnectionEvent, webhookId: string) => void | Promise<void>;
  port?: number;
  host?: string;
  path?: string;
}): Promise<WebhookReceiver> {
  const path = options.path ?? '/webhooks/ucw';
  // In production: a table with a unique key on the webhook id, written in the same transaction as the effect.
  const handled = new Set<string>();
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== path) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- every await inside is caught and the request always answered
    req.on('end', async () => {
      let event: ConnectionEvent;
      try {
        event = verifyWebhook(options.secrets, req.headers, Buffer.concat(chunks));
      } catch (error) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : 'invalid');
        return;
      }
      const id = String(req.headers['webhook-id']);
      if (!handled.has(id)) {
        try {
          await options.onEvent(event, id);
        } catch {
          // Not handled: a 5xx makes ucw-bff retry later with the same webhook-id.
          res.writeHead(500).end();
          return;
        }
        handled.add(id);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secrets = (process.env.PLATFORM_WEBHOOK_SECRET ?? '').split(',').filter(Boolean);
  if (secrets.length === 0) throw new Error('set PLATFORM_WEBHOOK_SECRET to the whsec_… secret ucw-bff signs with');
  const receiver = await startWebhookReceiver({
    secrets,
    port: Number(process.env.PORT ?? 4000),
    onEvent: (event, id) => console.log(id, event.type, event.data.userId, event.data.connection.id, event.data.connection.status),
  });
  console.log(`listening on ${receiver.url}`);
}
