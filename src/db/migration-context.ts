import type { Logger } from '../logger.js';

/**
 * What data migrations may need beyond SQL. The blind index is an HMAC under the data key, so a
 * migration that re-spells an indexed column needs the keys of the running configuration.
 * (Structural: the connections feature's SecretBox fits, without db/ importing a feature.)
 */
export interface MigrationContext {
  keys?: {
    open(value: string, keyId: string | null): string;
    lookupKey(aggregator: string, aggregatorConnectionId: string): string;
  };
  log: Pick<Logger, 'warn' | 'info'>;
}
