import { shutdown, sleep, startProduct, startServer, work, rssMiB } from './harness.js';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
const ucw = await startServer('fake-ucw');
rmSync('/work/probe/mem.log', { force: true });
for (let i = 0; i < 8; i++) {
  const p = await startProduct(ucw.base, `sqlite:${join(work, `idle${i}.sqlite`)}`, JSON.parse(process.env.ARGS ?? '[]'));
  await sleep(1000);
  const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  console.log('rss', rssMiB(p.child.pid!).toFixed(1), 'anon', (Number(/RssAnon:\s+(\d+)/.exec(status)![1]) / 1024).toFixed(1), 'file', (Number(/RssFile:\s+(\d+)/.exec(status)![1]) / 1024).toFixed(1));
  p.child.kill('SIGUSR2'); await sleep(200);
  p.child.kill();
}
await shutdown();
for (const l of readFileSync('/work/probe/mem.log', 'utf8').trim().split('\n')) { const j = JSON.parse(l); if (j.tag === 'before-gc') console.log(j.heapTotal, JSON.stringify(j.spaces)); }
