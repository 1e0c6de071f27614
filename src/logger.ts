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
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'ucw-bff' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // pino writes JSON; a TTY gets the same JSON (pino-pretty is a dev tool the reader can pipe to).
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}
