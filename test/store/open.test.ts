// Opening the store: directories created, schema migrated once, and clear StoreErrors when it can't.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { APPLICATION_ID } from '../../src/store/open.js';
import { openStore, StoreError, StoreInUseError } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { matchExactly } from '../helpers/match.js';

const loaderArgs = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
const storeModule = new URL('../../src/store/sqlite.js', import.meta.url).href;

/** The StoreError openStore throws for `path`; anything else (or no error) fails the test. */
function openError(path: string): StoreError {
  try {
    openStore(path).close();
  } catch (err) {
    if (err instanceof StoreError && err.code === 'VIGIL_ERR_STORE') return err;
    throw err;
  }
  throw new Error(`openStore(${path}) unexpectedly succeeded`);
}

t.test('creates missing directories and migrates a new file once', async (t) => {
  const file = join(tmpDir(t), 'a', 'b', 'vigil.db');
  openStore(file).close();
  openStore(file).close(); // the second open finds the schema current and changes nothing
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all();
  matchExactly(t, tables, [{ name: 'incidents' }, { name: 'meta' }, { name: 'oncall_incidents' }, { name: 'outbox' }, { name: 'push_pings' }, { name: 'silences' }, { name: 'sqlite_sequence' }, { name: 'subjects' }, { name: 'timeline' }, { name: 'uptime' }]);
});

t.test('a file written by a newer vigil is refused, and left as it was', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const raw = new Database(file);
  raw.exec('CREATE TABLE future (x)');
  raw.pragma(`user_version = ${SCHEMA_VERSION + 4}`);
  raw.close();
  const err = openError(file);
  t.equal(err.message, `${file} was written by a newer vigil (schema ${SCHEMA_VERSION + 4} > ${SCHEMA_VERSION})`);
  const after = new Database(file, { readonly: true });
  t.teardown(() => after.close());
  t.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION + 4);
});

t.test('a failed migration says so and leaves the file at its old version', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  openStore(file).close();
  const raw = new Database(file);
  raw.pragma('user_version = 1');
  // As if at schema 1 with one column of migration 2 already there, in its way.
  raw.exec('ALTER TABLE incidents DROP COLUMN detected_at; ALTER TABLE incidents DROP COLUMN former_roots');
  raw.close();
  const err = openError(file);
  t.match(err.message, `cannot migrate ${file} to schema 2: duplicate column name: maintenance`);
  const after = new Database(file, { readonly: true });
  t.teardown(() => after.close());
  t.equal(after.pragma('user_version', { simple: true }), 1);
  t.notOk(after.prepare(`SELECT 1 FROM pragma_table_info('incidents') WHERE name = 'detected_at'`).get(), 'rolled back whole');
});

t.test('an existing file that is empty or not vigil\'s is refused, never taken as a new store', async (t) => {
  const dir = tmpDir(t);
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  t.equal(
    openError(empty).message,
    `${empty} is an empty file (0 bytes), not a vigil store: vigil will not start a new history over it; move it away (or restore it from a backup) and start again`,
  );
  t.equal(statSync(empty).size, 0, 'left as it was');

  const other = join(dir, 'other.db');
  const raw = new Database(other);
  raw.exec('CREATE TABLE outbox (x); CREATE TABLE notes (y)');
  raw.close();
  t.equal(openError(other).message, `${other} is not a vigil store (a SQLite database with other tables: outbox, notes); move it away or point store.path at another file`);

  const blank = join(dir, 'blank.db');
  const b = new Database(blank);
  b.pragma('user_version = 0');
  b.exec('CREATE TABLE t (x); DROP TABLE t');
  b.close();
  t.match(openError(blank).message, `${blank} is not a vigil store (an empty SQLite database without vigil's tables)`);

  const app = join(dir, 'app.db');
  const a = new Database(app);
  a.pragma('application_id = 1234');
  a.pragma('user_version = 1');
  a.exec('CREATE TABLE incidents (x)');
  a.close();
  t.match(openError(app).message, `${app} is not a vigil store (its application id is 1234, another program's)`);
});

t.test('a new store is created whole, marked as vigil\'s, and opens again', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  openStore(file).close();
  t.notOk(existsSync(`${file}.new`), 'no draft left behind');
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  openStore(file).close();
});

t.test('one daemon holds a store: a second is refused naming the first, readers still read', async (t) => {
  const file = join(tmpDir(t), 'data', 'vigil.db');
  const holder = openStore(file, { exclusive: true });
  let err: unknown;
  try {
    openStore(file, { exclusive: true }).close();
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof StoreInUseError, 'a StoreInUseError');
  t.equal((err as StoreInUseError).code, 'VIGIL_ERR_STORE_IN_USE');
  t.match((err as Error).message, `store ${file} is in use by vigil pid ${process.pid}; stop it first`);
  const reader = openStore(file);
  t.same(reader.listIncidents({}), [], 'a reader opens beside the holder');
  reader.close();
  holder.close();
  const next = openStore(file, { exclusive: true });
  t.pass('the lock is free again once the holder closed the store');
  next.close();
});

t.test('a holder killed with SIGKILL leaves no stale lock', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const script = `import { openStore } from ${JSON.stringify(storeModule)};
    openStore(process.env.VIGIL_TEST_DB, { exclusive: true }); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...loaderArgs, '--input-type=module', '-e', script], { env: { ...process.env, VIGIL_TEST_DB: file }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('held') && resolve()));
  t.throws(() => openStore(file, { exclusive: true }), { message: `store ${file} is in use by vigil pid ${child.pid}; stop it first, or give this config its own store.path` });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  openStore(file, { exclusive: true }).close();
  t.pass('taken over after the holder died');
});

t.test('a path whose directory cannot be created', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  const file = join(dir, 'not-a-dir', 'data', 'vigil.db');
  const err = openError(file);
  t.match(err.message, `cannot open ${file}: cannot create directory ${join(dir, 'not-a-dir', 'data')}`);
  t.match(err.message, /a part of the path is a file, not a directory/);
});

t.test('a file that is not a database', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  writeFileSync(file, 'this is a text file, long enough to look like a header and then some more bytes\n'.repeat(10));
  t.equal(openError(file).message, `cannot open ${file}: not a SQLite database`);
});

t.test('a path that is a directory', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  mkdirSync(file);
  t.match(openError(file).message, `cannot open ${file}: unable to open the file`);
});

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** The message openStore(path) fails with; as root, asked of a child running as nobody. */
function messageAsUnprivileged(path: string): string {
  if (!isRoot) return openError(path).message;
  // root ignores permission bits, so the check is only visible to an ordinary user.
  const script = `import { openStore } from ${JSON.stringify(storeModule)};
    try { openStore(process.env.VIGIL_TEST_DB); console.log('opened'); }
    catch (err) { console.log(err.code + ' ' + err.message); }`;
  const res = spawnSync(process.execPath, [...loaderArgs, '--input-type=module', '-e', script], {
    uid: NOBODY,
    gid: NOBODY,
    env: { ...process.env, VIGIL_TEST_DB: path },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const out = res.stdout.trim();
  if (!out.startsWith('VIGIL_ERR_STORE ')) throw new Error(`unexpected child output: ${out} ${res.stderr}`);
  return out.slice('VIGIL_ERR_STORE '.length);
}

t.test('a directory that is not writable, or a parent that cannot be created in it', async (t) => {
  const base = tmpDir(t);
  chmodSync(base, 0o755); // so the unprivileged child can reach it
  const dir = join(base, 'ro');
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  t.teardown(() => chmodSync(dir, 0o755));
  const file = join(dir, 'vigil.db');
  t.equal(messageAsUnprivileged(file), `cannot open ${file}: directory ${dir} is not writable`);
  const deeper = join(dir, 'data', 'vigil.db');
  t.equal(messageAsUnprivileged(deeper), `cannot open ${deeper}: cannot create directory ${join(dir, 'data')} (permission denied)`);
});
