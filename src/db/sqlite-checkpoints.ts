import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/**
 * The worker: a connection of its own to the same file, one PASSIVE checkpoint per message, its
 * result posted back. Plain JavaScript run as given, so the dev server, the tests and the
 * production bundle start the same code without a build step of its own.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
// As the main connection: a checkpoint syncs the WAL and the database file, never more.
db.pragma('synchronous = NORMAL');
parentPort.on('message', () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ frames: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

export interface CheckpointOptions {
  /** Commits between checkpoints: ~50 commits of our writes fill the ~1,000 WAL pages SQLite's own default waits for. */
  commitsPerCheckpoint?: number;
  /** A WAL this many pages long is reset by the main connection itself (see `committed`). */
  restartAtFrames?: number;
  /** Where the worker loads better-sqlite3 from (this process's copy; a test points it elsewhere to see the fallback). */
  driver?: string;
  /** Told once if the worker fails and SQLite's own checkpoint takes over (for the logs). */
  onFailure?: (error: unknown) => void;
}

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses 1,000 WAL pages: it copies them into the database file and syncs both, on the main
 * thread, with every request waiting. Measured at 500 memberConnected events a second: one
 * COMMIT in 50 took 2–14 ms, and commits averaged 250 µs against ~100 µs without checkpoints.
 * So the main connection checkpoints never by itself; every `commitsPerCheckpoint` commits a
 * worker thread (started at the first, so an idle service never pays its ~10 MiB) runs a PASSIVE
 * checkpoint on its own connection, which never blocks the main connection's reads or writes.
 *
 * A WAL restarts from its beginning when a write begins after everything in it was checkpointed.
 * Writes that never pause (a checkpoint always overlaps a commit) never see that, and the file
 * would grow without end; past `restartAtFrames` the main connection runs one RESTART checkpoint
 * between two commits, which has little left to copy since the worker kept up.
 *
 * Should the worker fail, or stop answering for more commits than `restartAtFrames`, SQLite's
 * automatic checkpoint takes over again: nothing is lost but speed.
 */
export class WalCheckpoints {
  readonly #database: SQLite.Database;
  readonly #commitsPerCheckpoint: number;
  readonly #restartAtFrames: number;
  readonly #driver: string | undefined;
  readonly #onFailure: (error: unknown) => void;
  #worker: Worker | undefined;
  #commits = 0;
  #running = false;
  #restartDue = false;
  #failed = false;
  #closed = false;
  #stats = { checkpoints: 0, restarts: 0, frames: 0 };

  constructor(database: SQLite.Database, options: CheckpointOptions = {}) {
    this.#database = database;
    this.#commitsPerCheckpoint = options.commitsPerCheckpoint ?? 50;
    this.#restartAtFrames = options.restartAtFrames ?? 16_384; // 64 MiB of 4 KiB pages
    this.#driver = options.driver;
    this.#onFailure = options.onFailure ?? (() => undefined);
    database.pragma('wal_autocheckpoint = 0');
  }

  /** What the worker did so far (tests, diagnostics). `frames`: the WAL's length at its last checkpoint. */
  get stats(): Readonly<{ checkpoints: number; restarts: number; frames: number; failed: boolean }> {
    return { ...this.#stats, failed: this.#failed };
  }

  /** After each COMMIT of the main connection: no transaction of its own is open here. */
  committed(): void {
    if (this.#failed || this.#closed) return;
    if (this.#restartDue) {
      this.#restartDue = false;
      try {
        // The worker is idle here: it answered, and is asked again only below.
        this.#database.pragma('wal_checkpoint(RESTART)');
        this.#stats.restarts += 1;
      } catch {
        // Not now (the commit it follows stands either way); the worker's next answer asks again.
      }
    }
    this.#commits += 1;
    if (this.#running) {
      // Each commit adds at least a page: a worker silent this long would let the WAL grow without end.
      if (this.#commits > this.#restartAtFrames) this.#fallBack(this.#worker!, new Error('the checkpoint worker stopped answering'));
      return;
    }
    if (this.#commits < this.#commitsPerCheckpoint) return;
    this.#commits = 0;
    this.#running = true;
    this.#workerFor().postMessage('checkpoint');
  }

  /** Stops the worker; the main connection's close then checkpoints what is left, as SQLite's last connection does. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#closed = true;
    await worker?.terminate();
  }

  #workerFor(): Worker {
    if (this.#worker) return this.#worker;
    // Resolved here, not at start-up: most processes that open a database never start the worker.
    const driver = this.#driver ?? createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: this.#database.name, driver },
      // It holds a connection and a few statements, nothing more.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    worker.unref();
    worker.on('message', (result: { frames: number; checkpointed: number } | { error: string }) => {
      this.#running = false;
      if ('error' in result) return this.#fallBack(worker, new Error(result.error));
      this.#stats.checkpoints += 1;
      this.#stats.frames = result.frames;
      if (result.frames >= this.#restartAtFrames) this.#restartDue = true;
    });
    worker.on('error', (error) => this.#fallBack(worker, error));
    worker.on('exit', (code) => this.#fallBack(worker, new Error(`the checkpoint worker exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }

  #fallBack(worker: Worker, error: unknown): void {
    if (this.#worker !== worker || this.#failed || this.#closed) return;
    this.#failed = true;
    this.#worker = undefined;
    void worker.terminate();
    if (this.#database.open) this.#database.pragma('wal_autocheckpoint = 1000');
    this.#onFailure(error);
  }
}
