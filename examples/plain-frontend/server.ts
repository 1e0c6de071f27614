/**
 * Serves the example frontend on its own origin:
 *
 *   BFF_URL=http://localhost:3000 PORT=5173 npx tsx examples/plain-frontend/server.ts
 *   # the sandbox must allow it: ALLOWED_ORIGINS=http://localhost:3000,http://localhost:5173 npm start
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8');

/** `bffUrl` may be a function: read at each request, for a BFF started after the frontend. */
export async function startExampleFrontend(options: { bffUrl: string | (() => string); port?: number; host?: string; hostname?: string }): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/' && req.url !== '/index.html') return void res.writeHead(404).end();
    const bffUrl = (typeof options.bffUrl === 'function' ? options.bffUrl() : options.bffUrl).replace(/\/+$/, '');
    const html = page.replaceAll('__BFF_URL__', bffUrl.replace(/[<>"'&]/g, ''));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${options.hostname ?? options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const frontend = await startExampleFrontend({ bffUrl: process.env.BFF_URL ?? 'http://localhost:3000', port: Number(process.env.PORT ?? 5173), hostname: 'localhost' });
  console.log(`example frontend on ${frontend.origin}`);
}
