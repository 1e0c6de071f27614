import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startService } from './helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the service process', () => {
  it('when a variable is invalid, then start-up fails naming every bad variable and exits non-zero', async () => {
    const service = startService({ PORT: 'not-a-port', UCW_AUTH: 'static', UCW_URL: 'http://127.0.0.1:9' });
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(service.output()).toContain('Invalid configuration');
    expect(service.output()).toContain('PORT');
    expect(service.output()).toContain('UCW_BEARER_TOKEN: required when UCW_AUTH=static');
  });

  it('when started, then it migrates the database, answers /healthz and /readyz, and stops cleanly on SIGTERM', async () => {
    const service = startService({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'data', 'bff.sqlite')}`,
      UCW_URL: 'http://127.0.0.1:9',
      SESSION_SECRET: 's'.repeat(32),
    });
    try {
      const line = await service.waitFor(/ucw-bff listening/);
      const { port } = JSON.parse(line) as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      expect(await service.stop()).toBe(0);
    }
    expect(service.output()).toContain('shutdown complete');
  });
});
