import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log line. Secrets must never be logged;
 * this list is the safety net, not the primary defence (code should not log them at all).
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'req.headers["x-ucw-capability"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  '*.secret',
  '*.signature',
  '*.aggregatorConnectionId',
  '*.aggregatorUserId',
  '*.member_guid',
  '*.user_guid',
  '*.connectionId',
];

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream; pretty?: boolean }): Logger {
  const settings = {
    level: options.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'ucw-bff' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Pretty only for a person at a terminal (pino-pretty is a dev dependency); JSON everywhere else.
  if (options.pretty && !options.destination) {
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  // pino's own synchronous writer on fd 1 (its default): far cheaper per line than the process.stdout stream.
  return pino(settings, (options.destination ?? pino.destination({ dest: 1, sync: true })) as pino.DestinationStream);
}

/** Pretty logs when stdout is a terminal outside production and pino-pretty is installed. */
export function wantsPrettyLogs(env: string): boolean {
  if (env === 'production' || !process.stdout.isTTY) return false;
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
