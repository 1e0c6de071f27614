import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startService } from './helpers/process.js';
import { productionBuild, type ProductionCommand } from './helpers/production-build.js';

const run = promisify(execFile);
// The walkthrough is for a shell with curl; a machine without it skips it, saying why.
const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('curl not found: the docs/sandbox.md shell walkthrough test is skipped');
    return false;
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'ucw-bff-walkthrough-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The service as production runs it: built once per run (npm run build), started by start:prod.
let program: ProductionCommand;
beforeAll(async () => {
  program = await productionBuild();
}, 180_000);

describe.skipIf(!hasCurl)('docs/sandbox.md, "The flow from a shell"', () => {
  it('when its commands run verbatim against npm start, then alice ends with a connected connection', { timeout: 60_000 }, async () => {
    const markdown = readFileSync(new URL('../docs/sandbox.md', import.meta.url), 'utf8');
    const section = markdown.slice(markdown.indexOf('## The flow from a shell'));
    const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const port = await freePort();
    const service = startService(program, { PORT: String(port), SANDBOX_UCW_PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'bff.sqlite')}` });
    try {
      await service.waitFor(/ucw-bff listening/);
      // Only the port differs from what a reader runs (3000 may be taken on a test machine).
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script.replaceAll('localhost:3000', `localhost:${port}`)], { cwd: dir, timeout: 30_000 });
      const lines = stdout.trim().split('\n');
      const relayed = lines.filter((line) => line.includes('"recorded"')).map((line) => JSON.parse(line) as { sessionStatus: string; forward: { type: string } });
      expect(relayed.at(-1)).toMatchObject({ sessionStatus: 'connected', forward: { type: 'connect/memberConnected' } });
      expect(JSON.parse(lines.at(-2)!)).toMatchObject({ status: 'connected' });
      const { connections } = JSON.parse(lines.at(-1)!) as { connections: { status: string; institutionId: string }[] };
      expect(connections).toEqual([expect.objectContaining({ status: 'connected', institutionId: 'sandbox-bank' })]);
      expect(stdout).not.toMatch(/aggregatorUserId|USR-|member_guid/);
    } finally {
      await service.stop();
    }
  });
});
