// The SQLite store against real files: the shared Store suite, and what only a file has (writes-on-change, WAL, :memory:).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { change, incident, storeSuite, type StoreBackend } from './suite.js';

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);

/** A store file in a directory that does not exist yet, read beside the store with its own connection. */
const sqlite: StoreBackend = {
  name: 'SQLite',
  async fresh(t) {
    const file = join(tmpDir(t), 'data', 'vigil.db');
    return {
      open: (opts) => openStore(file, opts),
      async count(table) {
        const raw = new Database(file, { readonly: true });
        try {
          return (raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        } finally {
          raw.close();
        }
      },
    };
  },
};

storeSuite(t, sqlite);

t.test('an empty change writes nothing; a real one does', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  t.teardown(() => store.close());
  store.apply(change({ incidents: [incident(1)] }));
  // data_version moves when another connection commits: a second reader sees every write.
  const reader = new Database(file, { readonly: true });
  t.teardown(() => reader.close());
  const version = () => reader.pragma('data_version', { simple: true });
  const walSize = () => statSync(`${file}-wal`).size;
  const [v0, w0] = [version(), walSize()];

  const event = { type: 'symptom' as const, at: T0, incidentId: 1, severity: 'S1' as const, environment: 'production', service: 'db', probe: 'p', findingKey: 'p', summary: 's', message: 'm', openedAt: T0, durationMs: 0, respondBy: null, detail: '' };
  for (let i = 0; i < 100; i++) t.same(store.apply(change(i % 2 ? {} : { events: [event] })), []);
  t.equal(version(), v0, 'no commit happened');
  t.equal(walSize(), w0, 'the WAL did not grow');

  store.apply(change({ subjects: [{ key: 'p', probe: 'p', ok: true, failures: 0, successes: 1, severity: null, since: T0, incidentId: null }] }));
  t.not(version(), v0, 'a real change is a commit');
});

t.test('ping writes the heartbeat row; close is idempotent and leaves no WAL behind', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  store.ping(T0);
  store.ping(T0 + 1);
  t.ok(store.sizeBytes() > 0);
  store.close();
  store.close();
  let wal = 0;
  try {
    wal = statSync(`${file}-wal`).size;
  } catch {
    // removed entirely: also fine
  }
  t.equal(wal, 0, 'checkpointed into the database file');
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.same(raw.prepare(`SELECT value FROM meta WHERE key = 'heartbeat'`).all(), [{ value: T0 + 1 }]);
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
});

t.test(':memory: works', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  store.apply(change({ incidents: [incident(7)] }));
  t.equal(store.getIncident(7)?.summary, 'Backend DB unreachable');
  t.ok(store.sizeBytes() > 0);
});

