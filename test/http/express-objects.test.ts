import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { createDrainableServer } from '../../src/http/drainable-server.js';

describe('the HTTP server an Express app is served by', () => {
  it('when a request arrives, then its request and response objects already have the app prototypes (Express has nothing to change), and Express works as usual', async () => {
    const app = express();
    app.get('/things/:id', (req, res) => {
      res.set('X-Seen', req.get('x-probe') ?? '').json({ id: req.params.id, query: req.query.q, ip: req.ip });
    });
    const drainable = createDrainableServer(app);
    const { server } = drainable;
    // Runs before Express: what the objects were born with.
    const born: boolean[] = [];
    server.prependListener('request', (req, res) => born.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/things/abc?q=1`, { headers: { 'x-probe': 'yes' } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-seen')).toBe('yes');
      expect(await answer.json()).toEqual({ id: 'abc', query: '1', ip: '127.0.0.1' });
      expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
      expect(born).toEqual([true, true, true, true]);
    } finally {
      await drainable.drain();
    }
  });
});
