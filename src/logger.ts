import { pino, type Logger } from 'pino';

export type { Logger };

const CENSOR = '[redacted]';

// Key names compared lower-cased without separators, so `UCW-Connection-Id`, `ucw_connection_id`
// and `ucwConnectionId` are one name. Exact names first, then endings that always mean a secret.
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'sig',
  'capability',
  'xucwcapability',
  'bearer',
  'memberguid',
  'userguid',
  'aggregatorconnectionid',
  'aggregatoruserid',
  'connectionid',
  'ucwconnectionid',
  'passwd',
]);
const SECRET_ENDINGS = ['token', 'tokens', 'secret', 'secrets', 'password', 'signature', 'cookie', 'apikey', 'privatekey', 'encryptionkey', 'encryptionkeys'];

/** True for the key names whose values are secrets wherever they appear in a log line. */
export function isSecretKey(key: string): boolean {
  const name = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEYS.has(name) || SECRET_ENDINGS.some((ending) => name.endsWith(ending));
}

// Deeper than this, a log line carries no useful detail; the rest is cut rather than walked.
const MAX_LOG_DEPTH = 24;

/**
 * A copy of `value` with every secret-named field censored at any depth: plain objects, arrays
 * and errors (serialized first, so their custom properties and causes are covered too). Other
 * objects (requests, responses) are left to their serializers, which emit no secrets.
 */
export function redactSecrets(value: unknown, depth = 0, ancestors: object[] = []): unknown {
  if (value === null || typeof value !== 'object') return value;
  // pino's serialized error is an object with a prototype of its own; copy it to walk it.
  if (value instanceof Error) value = { ...(pino.stdSerializers.err(value) as object) };
  const isArray = Array.isArray(value);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!isArray && prototype !== Object.prototype && prototype !== null) return value;
  if (ancestors.includes(value as object)) return '[circular]';
  if (depth >= MAX_LOG_DEPTH) return '[too deep]';
  ancestors.push(value as object);
  try {
    if (isArray) return (value as unknown[]).map((element) => redactSecrets(element, depth + 1, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
      copy[key] = isSecretKey(key) && element !== undefined && element !== null ? CENSOR : redactSecrets(element, depth + 1, ancestors);
    }
    return copy;
  } finally {
    ancestors.pop();
  }
}

const redactRecord = (object: Record<string, unknown>) => redactSecrets(object) as Record<string, unknown>;

// pino formats a child's bindings once, to a JSON fragment, and skips the formatters for them.
// Children are made per request, so the fragment is only re-read when a key might be secret.
const SECRET_KEY_HINT = /"[^"]*(?:authori|cookie|sig|capab|bearer|guid|connection|user.?id|token|secret|passw|api.?key|private|encryption)[^"]*":/i;
const chindingsKey = pino.symbols.chindingsSym as unknown as string;

function redactChildBindings(child: Logger): void {
  const holder = child as unknown as Record<string, string>;
  const fragment = holder[chindingsKey];
  if (!fragment || !SECRET_KEY_HINT.test(fragment)) return;
  const redacted = JSON.stringify(redactSecrets(JSON.parse(`{${fragment.slice(1)}}`)));
  holder[chindingsKey] = redacted === '{}' ? '' : `,${redacted.slice(1, -1)}`;
}

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream; pretty?: boolean }): Logger {
  const settings = {
    level: options.level,
    // Secrets must never be logged; this is the safety net, not the primary defence (code
    // should not log them at all). Both the line's fields and a child logger's bindings.
    formatters: { log: redactRecord, bindings: redactRecord },
    onChild: redactChildBindings,
    // Errors arrive already serialized (and redacted) by the log formatter; serializing the
    // copy again would rename its type to "Object".
    serializers: { err: (value: unknown) => (value instanceof Error ? pino.stdSerializers.err(value) : value) },
    base: { service: 'ucw-bff' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Pretty for a person reading development logs; JSON for machines everywhere else.
  if (options.pretty && !options.destination) {
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  }
  return pino(settings, options.destination ?? bufferedStdout());
}

/** How long a log line may wait in the buffer when traffic is too light to fill it. */
const LOG_FLUSH_MS = 100;

/**
 * pino's own writer on fd 1 (far cheaper per line than the process.stdout stream), buffered: it
 * writes once 4 KiB have gathered or every 100 ms, instead of one system call per line (one per
 * request, for the access log). pino flushes it when the process exits, whatever the reason;
 * only a SIGKILL can lose the last 100 ms of lines. The writer's own periodic flush, not a timer
 * calling `flush(callback)`: with a callback, every flush also fsyncs stdout, ten a second.
 */
function bufferedStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_MS });
}

/**
 * Writes the buffered lines now, synchronously: for the lines that must not wait (listening,
 * shutting down), so that they come out before what the process does next.
 */
export function flushLogsNow(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // Not open yet, or already ended: pino flushes it at exit.
  }
}

/** pino-pretty is a dev dependency: the production image logs JSON whatever LOG_FORMAT says. */
export function prettyLogsAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
