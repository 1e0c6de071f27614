import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { rekeyConnection, rekeyConnections } from '../../src/connections/rekey.js';
import { createSecretBox } from '../../src/connections/secret-box.js';
import { createDatabase } from '../../src/db/database.js';
import { buildDependencies } from '../../src/dependencies.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/databases.js';
import { createConnectUrl, relay, v1Connected } from '../helpers/flows.js';
import { captureLogs } from '../helpers/logs.js';
import { FRONTEND_ORIGIN, testEnv } from '../helpers/test-app.js';
import { startSandboxUcw, type SandboxUcw } from '../../src/sandbox/sandbox-ucw.js';

const OLD = `old:${randomBytes(32).toString('base64')}`;
const NEW = `new:${randomBytes(32).toString('base64')}`;

describe('key ring', () => {
  it('when several keys are configured, then the first seals, every one opens, and an unknown key id fails loudly', () => {
    const before = createSecretBox([OLD]);
    const ring = createSecretBox([NEW, OLD]);
    const sealedOld = before.seal('MBR-secret');
    expect(sealedOld.keyId).toBe('old');
    expect(ring.open(sealedOld.value, 'old')).toBe('MBR-secret');
    expect(ring.seal('x').keyId).toBe('new');
    expect(ring.seal('x', 'old').keyId).toBe('old');
    expect(ring.seal('x', null)).toEqual({ value: 'x', keyId: null });
    expect(() => createSecretBox([NEW]).open(sealedOld.value, 'old')).toThrow(/"old", which is not configured/);
    expect(ring.lookupKeys('mx', 'a')).toEqual([ring.lookupKey('mx', 'a'), before.lookupKey('mx', 'a'), createSecretBox(undefined).lookupKey('mx', 'a')]);
    expect(() => ring.lookupKey('MX', 'a')).toThrow(/normalized aggregator/);
    expect(() => createSecretBox([OLD, OLD])).toThrow(/distinct/);
  });

  it('when DATA_ENCRYPTION_KEY (the alias) or DATA_ENCRYPTION_KEYS is set, then the ring is the same; both at once is an error', () => {
    const base = testEnv();
    expect(loadConfig({ ...base, DATA_ENCRYPTION_KEYS: `${NEW},${OLD}` }).dataEncryptionKeys).toEqual([NEW, OLD]);
    expect(loadConfig({ ...base, DATA_ENCRYPTION_KEY: OLD }).dataEncryptionKeys).toEqual([OLD]);
    const bare = OLD.slice('old:'.length);
    expect(loadConfig({ ...base, DATA_ENCRYPTION_KEY: bare }).dataEncryptionKeys).toEqual([`k1:${bare}`]);
    expect(() => loadConfig({ ...base, DATA_ENCRYPTION_KEYS: NEW, DATA_ENCRYPTION_KEY: OLD })).toThrow(/DATA_ENCRYPTION_KEYS: set DATA_ENCRYPTION_KEYS or DATA_ENCRYPTION_KEY, not both/);
    expect(() => loadConfig({ ...base, DATA_ENCRYPTION_KEYS: `${NEW},${NEW}` })).toThrow(/key ids must be distinct/);
    expect(() => loadConfig({ ...base, DATA_ENCRYPTION_KEYS: 'nokeyid' })).toThrow(/DATA_ENCRYPTION_KEYS/);
  });
});

describe.each(testDialects)('rotating DATA_ENCRYPTION_KEYS on %s', (dialect) => {
  let database: TestDatabase;
  let sandbox: SandboxUcw;
  const apps: Array<{ close(): Promise<void> }> = [];
  // A database per test: rekey moves every row, so no test may see another's.
  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database.destroy();
  });
  beforeAll(async () => {
    sandbox = await startSandboxUcw({ version: 2, port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  /** An instance over the shared database with the given key configuration. */
  const instance = async (keys: Record<string, string>) => {
    const config = loadConfig(testEnv({ UCW_URL: sandbox.url, UCW_API_VERSION: '2', ...keys }));
    const logs = captureLogs();
    const deps = await buildDependencies(config, logs.logger, { database });
    apps.push(deps);
    return { app: createApp(deps), deps, logs };
  };
  const connectAs = async (app: Awaited<ReturnType<typeof instance>>['app'], userId: string, member: string) => {
    const session = await createConnectUrl(app, userId, { jobTypes: ['transactions'] });
    return relay(app, session.body.url, v1Connected(member, { user_guid: `USR-${member}` }));
  };
  const refreshUrlOf = async (app: Awaited<ReturnType<typeof instance>>['app'], userId: string, connectionId: string) => {
    const res = await createConnectUrl(app, userId, { jobTypes: ['transactions'], connectionId, embed: 'direct', targetOrigin: FRONTEND_ORIGIN });
    expect(res.status).toBe(201);
    // What the UCW was asked to refresh: the decrypted aggregator connection id.
    const minted = sandbox.requests.filter((r) => r.path === '/widgetUrl').at(-1) as unknown as { body: { connectionId?: string } };
    return minted.body.connectionId;
  };

  it('when the key rotates, then old rows keep working and keep their owner, rekey moves every row (in batches, resumably), and the old key can go', async () => {
    const before = await instance({ DATA_ENCRYPTION_KEY: OLD });
    const bob = await connectAs(before.app, 'rot-bob', 'MBR-rot-1');
    const carol = await connectAs(before.app, 'rot-carol', 'MBR-rot-2');
    const dave = await connectAs(before.app, 'rot-dave', 'MBR-rot-3');
    const ids = [bob, carol, dave].map((r) => r.body.forward.metadata.connectionId as string);
    expect(new Set((await database.db.selectFrom('connections').select('encryption_key_id').execute()).map((r) => r.encryption_key_id))).toEqual(new Set(['old']));

    // Step 1: deploy NEW first, OLD second. Old rows open, and nobody can claim them meanwhile.
    const during = await instance({ DATA_ENCRYPTION_KEYS: `${NEW},${OLD}` });
    const claim = await connectAs(during.app, 'rot-mallory', 'MBR-rot-1');
    expect([claim.status, claim.body.code]).toEqual([409, 'conflict']);
    const again = await connectAs(during.app, 'rot-bob', 'MBR-rot-1');
    expect([again.status, again.body.forward.metadata.connectionId]).toEqual([200, ids[0]]);
    const fresh = await connectAs(during.app, 'rot-erin', 'MBR-rot-4');
    ids.push(fresh.body.forward.metadata.connectionId);

    // Step 2: rekey, in batches of 2; a second run finds nothing to do.
    const box = during.deps.secretBox;
    const logs = captureLogs();
    expect(await rekeyConnections(database.db, box, logs.logger, { batchSize: 2 })).toEqual({ rekeyed: 3, current: 1, busy: 0, failed: 0 });
    expect(await rekeyConnections(database.db, box, logs.logger, { batchSize: 2 })).toEqual({ rekeyed: 0, current: 4, busy: 0, failed: 0 });
    expect(logs.lines().filter((line) => line.includes('rekey_progress'))).toHaveLength(4);
    expect(logs.text()).not.toMatch(/MBR-rot|USR-MBR/);
    const rows = await database.db.selectFrom('connections').selectAll().orderBy('id').execute();
    for (const row of rows) {
      expect(row.encryption_key_id).toBe('new');
      const plain = box.open(row.aggregator_connection_id, row.encryption_key_id);
      expect(row.lookup_key).toBe(box.lookupKey(row.aggregator, plain));
      expect(box.open(row.aggregator_user_id!, row.encryption_key_id)).toBe(`USR-${plain}`);
    }

    // Step 3: drop OLD. Everything still opens; claims are still refused.
    const after = await instance({ DATA_ENCRYPTION_KEYS: NEW });
    for (const [user, id, member] of [['rot-bob', ids[0], 'MBR-rot-1'], ['rot-carol', ids[1], 'MBR-rot-2'], ['rot-erin', ids[3], 'MBR-rot-4']] as const) {
      expect(await refreshUrlOf(after.app, user, id!)).toBe(member);
    }
    const lateClaim = await connectAs(after.app, 'rot-mallory', 'MBR-rot-2');
    expect(lateClaim.status).toBe(409);
  });

  it('when a running instance writes a row while rekey holds a stale copy, then the compare-and-set keeps that write', async () => {
    const before = await instance({ DATA_ENCRYPTION_KEY: OLD });
    const made = await connectAs(before.app, 'cas-user', 'MBR-cas');
    const id = made.body.forward.metadata.connectionId as string;
    const stale = await database.db
      .selectFrom('connections')
      .select(['id', 'aggregator', 'aggregator_connection_id', 'aggregator_user_id', 'encryption_key_id', 'lookup_key'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const oldBox = createSecretBox([OLD]);
    // The service writes meanwhile (a new aggregator user id, under the row's key).
    await database.db.updateTable('connections').set({ aggregator_user_id: oldBox.seal('USR-written-meanwhile', 'old').value }).where('id', '=', id).execute();

    const ring = createSecretBox([NEW, OLD]);
    expect(await rekeyConnection(database.db, ring, captureLogs().logger, stale)).toBe('rekeyed');
    const row = await database.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect([row.encryption_key_id, ring.open(row.aggregator_user_id!, row.encryption_key_id), ring.open(row.aggregator_connection_id, row.encryption_key_id)]).toEqual(['new', 'USR-written-meanwhile', 'MBR-cas']);
  });
});

describe('npm run rekey', () => {
  it('when run against a SQLite file, then it uses the service configuration, re-seals every row and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-'));
    try {
      const url = `sqlite:${join(dir, 'bff.sqlite')}`;
      const setup = await createDatabase({ dialect: 'sqlite', path: join(dir, 'bff.sqlite') });
      const oldBox = createSecretBox([OLD]);
      await setup.migrateToLatest({ keys: oldBox, log: captureLogs().logger });
      const sealed = oldBox.seal('MBR-cli');
      await setup.db
        .insertInto('connections')
        .values({
          id: 'conn_cli', user_id: 'cli-user', aggregator: 'mx', aggregator_connection_id: sealed.value, aggregator_user_id: null, encryption_key_id: 'old',
          lookup_key: oldBox.lookupKey('mx', 'MBR-cli'), institution_id: null, job_types: '[]', status: 'connected', status_code: 6, verification_error: null,
          duplicate_of: null, created_at: '2026-11-30T00:00:00.000Z', updated_at: '2026-11-30T00:00:00.000Z', last_connected_at: null,
        })
        .execute();
      await setup.close();

      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/rekey.ts', '--batch', '10'], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, DATA_ENCRYPTION_KEYS: `${NEW},${OLD}`, UCW_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info' },
      });
      expect(stdout).toContain('"event":"rekey_done"');
      expect(stdout).not.toContain('MBR-cli');

      const check = await createDatabase({ dialect: 'sqlite', path: join(dir, 'bff.sqlite') });
      const row = await check.db.selectFrom('connections').selectAll().executeTakeFirstOrThrow();
      const ring = createSecretBox([NEW]);
      expect([row.encryption_key_id, ring.open(row.aggregator_connection_id, 'new'), row.lookup_key]).toEqual(['new', 'MBR-cli', ring.lookupKey('mx', 'MBR-cli')]);
      await check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
