// Opening a store file: creating a new one whole, refusing one that is not vigil's, and holding it for one daemon.
import { accessSync, constants, existsSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, StoreInUseError } from './errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';

const BUSY_TIMEOUT_MS = 5_000;
const WAL_SIZE_LIMIT = 4 * 1024 * 1024;
/** "vigl" in the file header's application_id: marks a file as vigil's store (files from before it carry 0). */
export const APPLICATION_ID = 0x7669676c;

export { StoreError, StoreInUseError } from './errors.js';

/**
 * An exclusive lock on `<store>.lock`, held by SQLite's own file lock for as long as the process
 * lives: the kernel drops it when the holder dies, even by SIGKILL, so there is no stale lock to clean.
 */
export class StoreLock {
  readonly #db: Database.Database;
  private constructor(db: Database.Database) {
    this.#db = db;
  }

  static acquire(path: string): StoreLock {
    let db: Database.Database | undefined;
    try {
      db = new Database(`${path}.lock`, { timeout: 0 });
      // Exclusive locking mode keeps the lock taken by BEGIN EXCLUSIVE until the connection closes.
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('COMMIT');
      return new StoreLock(db);
    } catch (err) {
      db?.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        const holder = readHolder(path);
        const who = holder ? `vigil pid ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}` : 'another vigil';
        throw new StoreInUseError(`store ${path} is in use by ${who}; stop it first, or give this config its own store.path`);
      }
      throw new StoreError(`cannot lock ${path}: ${reason(err)}`, { cause: err });
    }
  }

  release(): void {
    if (this.#db.open) this.#db.close();
  }
}

interface Holder {
  pid: number;
  host: string | null;
}

/** Who holds the store, as the holder wrote it into the store's meta table; null when unreadable. */
function readHolder(path: string): Holder | null {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1_000 });
    try {
      const row = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'holder'`).get();
      const holder = row ? (JSON.parse(row.value) as Partial<Holder>) : null;
      return typeof holder?.pid === 'number' ? { pid: holder.pid, host: typeof holder.host === 'string' ? holder.host : null } : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** Written by the daemon that holds the lock, for the message a second one prints. */
export function writeHolder(db: Database.Database): void {
  db.prepare(`INSERT INTO meta (key, value) VALUES ('holder', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(
    JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
  );
}

/**
 * Opens the store at `path` (':memory:' for one in memory), migrated to the current schema.
 * A missing file is created whole, or not at all; an existing one must be vigil's: an empty file
 * or another program's database is refused rather than silently taken as a new store.
 */
export function openDatabase(path: string): Database.Database {
  if (path === ':memory:') return migrated(configured(new Database(path), path), path);
  const dir = dirname(resolve(path));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StoreError(`cannot open ${path}: cannot create directory ${dir} (${reason(err)})`, { cause: err });
  }
  try {
    // WAL keeps two files beside the database, so the directory itself must be writable.
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new StoreError(`cannot open ${path}: directory ${dir} is not writable`, { cause: err });
  }
  if (!existsSync(path)) createStore(path);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new StoreError(`cannot open ${path}: ${reason(err)}`, { cause: err });
  }
  if (size === 0) {
    throw new StoreError(`${path} is an empty file (0 bytes), not a vigil store: vigil will not start a new history over it; move it away (or restore it from a backup) and start again`);
  }
  let db: Database.Database | undefined;
  try {
    db = configured(new Database(path, { timeout: BUSY_TIMEOUT_MS, fileMustExist: true }), path);
  } catch (err) {
    throw err instanceof StoreError ? err : new StoreError(`cannot open ${path}: ${reason(err)}`, { cause: err });
  }
  let foreign: string | null;
  try {
    foreign = notVigils(db);
  } catch (err) {
    db.close();
    throw new StoreError(`cannot open ${path}: ${reason(err)}`, { cause: err });
  }
  if (foreign) {
    db.close();
    throw new StoreError(`${path} is not a vigil store (${foreign}); move it away or point store.path at another file`);
  }
  return migrated(db, path);
}

/** Creates and migrates a new store beside `path`, then links it into place: a crash leaves no half-made store. */
function createStore(path: string): void {
  const draft = `${path}.new`;
  for (const f of [draft, `${draft}-wal`, `${draft}-shm`, `${draft}-journal`]) rmSync(f, { force: true });
  let db: Database.Database | undefined;
  try {
    db = new Database(draft);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    configured(db, path);
    migrated(db, path).close();
    // link, unlike rename, never replaces a file another process put there meanwhile.
    linkSync(draft, path);
  } catch (err) {
    if (db?.open) db.close();
    const code = (err as { code?: unknown }).code;
    if (code !== 'EEXIST') throw err instanceof StoreError ? err : new StoreError(`cannot create ${path}: ${reason(err)}`, { cause: err });
  } finally {
    rmSync(draft, { force: true });
  }
}

function configured(db: Database.Database, path: string): Database.Database {
  try {
    // Only takes effect on a new file; lets prune() hand freed pages back to the filesystem.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit is in the WAL before apply() returns, so a process crash or SIGKILL
    // loses nothing; only an OS crash or power cut can lose the last transactions. FULL would
    // fsync on every commit for no gain against the failures a daemon actually sees.
    db.pragma('synchronous = NORMAL');
    // After a burst (a big prune) the WAL is cut back to this instead of keeping its high-water size.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (err) {
    db.close();
    throw new StoreError(`cannot open ${path}: ${reason(err)}`, { cause: err });
  }
}

/** Why an existing database is not a vigil store, or null when it is one. */
function notVigils(db: Database.Database): string | null {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) return `its application id is ${appId}, another program's`;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`).all().map((r) => r.name);
  if (version === 0) return tables.length === 0 ? 'an empty SQLite database without vigil\'s tables' : `a SQLite database with other tables: ${tables.slice(0, 5).join(', ')}`;
  if (version <= SCHEMA_VERSION && !tables.includes('incidents')) return 'a SQLite database without vigil\'s incidents table';
  return null;
}

function migrated(db: Database.Database, path: string): Database.Database {
  const failure = migrate(db);
  if (!failure) return db;
  db.close();
  if (failure.kind === 'newer') {
    throw new StoreError(`${path} was written by a newer vigil (schema ${failure.found} > ${SCHEMA_VERSION})`);
  }
  throw new StoreError(`cannot migrate ${path} to schema ${failure.to}: ${reason(failure.cause)}`, { cause: failure.cause });
}

export function reason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_NOTADB') return 'not a SQLite database';
  if (code === 'SQLITE_CORRUPT') return 'the database file is corrupt';
  if (code === 'SQLITE_CANTOPEN') return 'unable to open the file: vigil may not write it or its directory (check the owner and permissions, or a read-only mount)';
  if (code === 'SQLITE_READONLY') return 'the file is read-only';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a directory';
  if (code === 'EISDIR') return 'it is a directory, not a file';
  return err instanceof Error ? err.message : String(err);
}
