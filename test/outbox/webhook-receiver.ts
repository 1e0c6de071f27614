import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receipt {
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
}

/** What the receiver answers to the n-th request (0-based); default 200. */
export type Script = (index: number, res: ServerResponse) => { status: number; headers?: Record<string, string>; delayMs?: number } | 'hang';

/** A real platform webhook receiver on a loopback port that records every request it got. */
export async function startReceiver(script: Script = () => ({ status: 200 })) {
  const receipts: Receipt[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = receipts.length;
      const answer = script(index, res);
      if (answer === 'hang') {
        receipts.push({ headers: req.headers, body: Buffer.concat(chunks), status: 0 });
        return;
      }
      receipts.push({ headers: req.headers, body: Buffer.concat(chunks), status: answer.status });
      const send = () => res.writeHead(answer.status, answer.headers ?? {}).end('ok');
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/platform/webhooks`,
    receipts,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
