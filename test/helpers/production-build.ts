import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** How the production process is started: `start:prod` from package.json, paths made absolute. */
export interface ProductionCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * Builds the service once per `vitest run` (`npm run build`, whatever it does) and answers the
 * command `npm run start:prod` runs. Test files run in parallel processes: the first to ask builds,
 * the others wait for its marker, so a change of the build layout (tsc output, a bundle) needs no
 * change here.
 */
export async function productionBuild(): Promise<ProductionCommand> {
  const dir = join(inject('runDir'), 'build');
  const done = join(dir, 'done');
  const failed = join(dir, 'failed');
  let builder = false;
  try {
    mkdirSync(dir);
    builder = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (builder) {
    try {
      await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
      writeFileSync(done, '');
    } catch (error) {
      writeFileSync(failed, String((error as { stdout?: string }).stdout ?? error));
    }
  }
  // Another file is building: its marker ends the wait (the hook timeout bounds it).
  while (!existsSync(done) && !existsSync(failed)) await delay(100);
  if (existsSync(failed)) throw new Error(`npm run build failed:\n${readFileSync(failed, 'utf8')}`);
  return startProdCommand();
}

/** Parses `start:prod` (e.g. `node dist/main.js`, optionally after VAR=value pairs and with node flags). */
function startProdCommand(): ProductionCommand {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod'];
  if (!script) throw new Error('package.json has no start:prod script');
  const words = script.replace(/^exec\s+/, '').split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const [command, ...args] = words;
  if (command !== 'node') throw new Error(`start:prod must run node, not ${command}`);
  return {
    command: process.execPath,
    // Relative paths are the repository's: absolute, so the process may run in another directory.
    args: args.map((arg) => (arg.startsWith('-') || isAbsolute(arg) || !existsSync(join(ROOT, arg)) ? arg : join(ROOT, arg))),
    env,
  };
}
