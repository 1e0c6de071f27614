import { ConfigError, loadConfig } from './config.js';
import { rekeyConnections } from './connections/rekey.js';
import { createSecretBox } from './connections/secret-box.js';
import { createDatabase } from './db/database.js';
import { createLogger } from './logger.js';

/**
 * `npm run rekey [-- --after <connection id>] [--batch <n>]`: re-seals every stored connection
 * under the first key of DATA_ENCRYPTION_KEYS and rebuilds the blind index, with the service's
 * own configuration and database code. Exit 0 when every row is current, 1 otherwise (re-run).
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const after = flag('--after');
  const batchSize = Number(flag('--batch') ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('--batch must be a positive integer');

  const box = createSecretBox(config.dataEncryptionKeys);
  const database = await createDatabase(config.database, { poolSize: 2, poolTimeoutMs: config.databasePool.timeoutMs });
  try {
    await database.migrateToLatest({ keys: box, log: logger });
    logger.info({ currentKeyId: box.currentKeyId }, 'rekey: starting');
    const report = await rekeyConnections(database.db, box, logger, { batchSize, ...(after ? { after } : {}) });
    logger.info({ event: 'rekey_done', ...report }, 'rekey: done');
    return report.busy + report.failed === 0 ? 0 : 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`rekey failed: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  },
);
