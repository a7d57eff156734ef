// Opening the store: directories created, schema migrated once, and clear StoreErrors when it can't.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore, StoreError } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

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
  t.match(tables, [{ name: 'incidents' }, { name: 'meta' }, { name: 'oncall_incidents' }, { name: 'outbox' }, { name: 'push_pings' }, { name: 'silences' }, { name: 'sqlite_sequence' }, { name: 'subjects' }, { name: 'timeline' }, { name: 'uptime' }]);
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
  const raw = new Database(file);
  raw.exec('CREATE TABLE outbox (x)'); // in the way of migration 1
  raw.close();
  const err = openError(file);
  t.match(err.message, `cannot migrate ${file} to schema 1: table outbox already exists`);
  const after = new Database(file, { readonly: true });
  t.teardown(() => after.close());
  t.equal(after.pragma('user_version', { simple: true }), 0);
  t.same(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'incidents'`).all(), [], 'rolled back whole');
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
const loaderArgs = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
const storeModule = new URL('../../src/store/sqlite.js', import.meta.url).href;

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
