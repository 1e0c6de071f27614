import { shutdown, sleep, startProduct, startServer, work } from './harness.js';
import { join } from 'node:path';
const ucw = await startServer('fake-ucw');
const p = await startProduct(ucw.base, `sqlite:${join(work, 'idlex.sqlite')}`);
await sleep(1000);
await shutdown();
