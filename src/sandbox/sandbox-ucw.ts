import type { AddressInfo } from 'node:net';
import express from 'express';
import { dataRoutes } from './sandbox-data.routes.js';
import { allowAnyOrigin, recordRequests, sendText, type RecordedRequest } from './sandbox-http.js';
import { ConnectionStatus, SandboxStore, type SandboxMember } from './sandbox-store.js';
import { widgetRoutes } from './sandbox-widget.routes.js';

export type { RecordedRequest } from './sandbox-http.js';
export type { SandboxMember } from './sandbox-store.js';
export type { WidgetEvent } from './sandbox-events.js';
export { INSTITUTIONS } from './sandbox-data.js';

export interface SandboxUcwOptions {
  /** Which UCW generation to simulate: 1 = 1.9.2 (`/api/token` + query widget URL), 2 = 2.1.2 (`POST /widgetUrl`). */
  version: 1 | 2;
  /** When set, the UCW's authentication is on: API calls need `Authorization: Bearer <token>` where isValidBearer(token) is true. Undefined = auth off. */
  isValidBearer?: (token: string) => boolean;
  /** Event payload generation posted by the widget page; defaults to `version`. 1 = member_guid/user_guid/connection_status; 2 = connectionId/aggregatorUserId/connectionStatus. */
  eventGeneration?: 1 | 2;
  /** Origins allowed to frame /widget (sent as CSP frame-ancestors). Default: any ('*'), like the real UCW which sends no framing headers. */
  frameAncestors?: readonly string[];
  /** ms clock, for token expiry tests. */
  now?: () => number;
  /** Base URL put into v2 `widgetUrl`s. Default: the scheme and Host of the `POST /widgetUrl` request. */
  publicUrl?: string;
}

export interface SandboxMembers {
  list(): SandboxMember[];
  /** Seeds a CONNECTED member (default aggregator `sophtron`, institution `sandbox-bank`). */
  create(input: { userId: string; aggregator?: string; institutionId?: string }): SandboxMember;
}

export interface SandboxUcwState {
  requests: RecordedRequest[];
  members: SandboxMembers;
  store: SandboxStore;
}

export interface SandboxUcw {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  /** Every request received, in order (tests assert exactly what the BFF sent upstream). */
  requests: RecordedRequest[];
  /** Members (connections) created through the widget, so tests can seed/inspect. */
  members: SandboxMembers;
  close(): Promise<void>;
}

function refuseProduction(): void {
  // The simulator accepts any bearer its caller approves and hands out fake data: never in production.
  if (process.env['NODE_ENV'] === 'production') {
    throw new Error('The sandbox UCW simulator refuses to run with NODE_ENV=production');
  }
}

/** The simulator as an Express app; pure wiring, never listens. */
export function createSandboxUcwApp(options: SandboxUcwOptions): { app: express.Express; state: SandboxUcwState } {
  refuseProduction();
  const now = options.now ?? Date.now;
  const store = new SandboxStore(now);
  const requests: RecordedRequest[] = [];
  const members: SandboxMembers = {
    list: () => store.members(),
    create: (input) =>
      store.createMember({
        userId: input.userId,
        aggregator: input.aggregator ?? 'sophtron',
        institutionId: input.institutionId ?? 'sandbox-bank',
        status: ConnectionStatus.CONNECTED,
      }),
  };

  const app = express();
  app.disable('x-powered-by');
  const recorder = recordRequests(requests);
  app.use(recorder.record);
  app.use(allowAnyOrigin);
  app.use(express.json({ limit: '100kb' }));
  app.use(recorder.attachBody);
  app.use(
    widgetRoutes(store, {
      version: options.version,
      isValidBearer: options.isValidBearer,
      eventGeneration: options.eventGeneration ?? options.version,
      frameAncestors: options.frameAncestors,
      publicUrl: options.publicUrl,
    }),
  );
  app.use(dataRoutes(store, { version: options.version, isValidBearer: options.isValidBearer, now }));
  // Malformed JSON and other failures: a short text answer like Express's, without a stack trace.
  app.use((error: { status?: number; statusCode?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = error.status ?? error.statusCode ?? 500;
    sendText(res, status, status === 500 ? 'Internal Server Error' : 'Bad Request');
  });
  return { app, state: { requests, members, store } };
}

/** Starts the simulator on loopback (port 0 = ephemeral). Refuses to start when NODE_ENV=production. */
export async function startSandboxUcw(options: SandboxUcwOptions & { port?: number; host?: string }): Promise<SandboxUcw> {
  refuseProduction();
  const host = options.host ?? '127.0.0.1';
  const { app, state } = createSandboxUcwApp(options);
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    requests: state.requests,
    members: state.members,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Browsers keep connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}
