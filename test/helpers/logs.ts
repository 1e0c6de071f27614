import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** A real pino logger whose lines land in memory, so tests can assert what was (not) logged. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: () => string[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level, destination });
  const lines = () => chunks.join('').split('\n').filter(Boolean);
  return { logger, lines, text: () => chunks.join('') };
}
