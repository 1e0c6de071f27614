/**
 * An HTTP server that can be drained under keep-alive load. `server.close()` alone only stops
 * accepting: clients with busy keep-alive connections go on sending requests on them, and the
 * close never completes. Draining also answers `Connection: close` on every response from then
 * on (so each connection ends after its current request) and closes connections the moment they
 * fall idle, while requests in flight finish normally.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import { expressObjectClasses } from './express-objects.js';

export interface DrainableServer {
  server: Server;
  /** Starts draining; resolves when every connection has closed. */
  drain(): Promise<void>;
  /** Cuts every connection still open (the drain deadline passed). */
  forceClose(): void;
}

export function createDrainableServer(app: Express): DrainableServer {
  let draining = false;
  const open = new Set<ServerResponse>();
  const server = createServer(expressObjectClasses(app), (req, res) => {
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      // The connection may now be idle (a keep-alive response sent before the drain began).
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
    if (draining) res.setHeader('Connection', 'close');
    app(req, res);
  });

  return {
    server,
    drain() {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      server.closeIdleConnections();
      return closed;
    },
    forceClose() {
      server.closeAllConnections();
    },
  };
}
