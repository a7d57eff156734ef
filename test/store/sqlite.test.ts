// The SQLite store against real files: incidents, timelines, subjects, ids, writes-on-change, listing.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/sqlite.js';
import type { StoreChange } from '../../src/store/store.js';
import type { Incident, SubjectState } from '../../src/types.js';
import { tmpDir } from '../helpers/tmp.js';

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);

function incident(id: number, over: Partial<Incident> = {}): Incident {
  return {
    id,
    state: 'open',
    severity: 'S1',
    environment: 'production',
    service: 'db',
    summary: 'Backend DB unreachable',
    rootProbe: 'backend-db-ready',
    rootKey: 'backend-db-ready',
    symptoms: [],
    openedAt: T0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    respondBy: T0 + 30 * 60_000,
    lastReminderAt: null,
    message: 'connection refused',
    timeline: [],
    evidence: [],
    ...over,
  };
}

function change(over: Partial<StoreChange> = {}): StoreChange {
  return { subjects: [], incidents: [], timeline: [], messages: [], events: [], ...over };
}

function resolved(id: number, resolvedAt: number): Incident {
  return incident(id, { state: 'resolved', resolvedAt, openedAt: resolvedAt - 60_000 });
}

t.test('an incident with timeline, evidence and symptoms survives close and reopen', async (t) => {
  const file = join(tmpDir(t), 'data', 'vigil.db'); // data/ does not exist yet
  const opened = { at: T0, event: 'opened' as const, detail: 'connection refused' };
  const symptom = { at: T0 + 5_000, event: 'symptom' as const, detail: 'backend-health failed' };
  const ack = { at: T0 + 60_000, event: 'acknowledged' as const, detail: 'Acknowledged', by: 'ana' };
  const evidence = [{ at: T0 + 1_000, source: 'compose ps prod-backend', text: 'db  exited (1)\n"quoted" ✓' }];
  const subjects: SubjectState[] = [
    { key: 'backend-db-ready', probe: 'backend-db-ready', ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: 1 },
    { key: 'backend-health', probe: 'backend-health', ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: 1 },
    { key: 'host:prod-backend', probe: 'host:prod-backend', ok: null, failures: 0, successes: 0, severity: null, since: T0, incidentId: null },
  ];
  const first = incident(1, { symptoms: ['backend-health'], evidence, timeline: [opened, symptom] });
  const messages = [
    { sink: 'discord', channel: 'ops', createdAt: T0, incidentId: 1, event: 'opened' as const, body: { content: '[INCIDENT] S1' } },
    { sink: 'discord', channel: 'errors', createdAt: T0, incidentId: 1, event: 'opened' as const, body: { embeds: [{ title: 'S1 · x' }] } },
  ];

  const store = openStore(file);
  const sent = store.apply(
    change({
      subjects,
      incidents: [first],
      timeline: [{ incidentId: 1, entry: opened }, { incidentId: 1, entry: symptom }],
      messages,
    }),
  );
  t.same(sent, messages.map((m, i) => ({ ...m, id: i + 1 })), 'messages come back with ids');
  const acked = { ...first, state: 'acknowledged' as const, acknowledgedAt: T0 + 60_000, acknowledgedBy: 'ana', pagedSeverity: 'S1' as const, timeline: [opened, symptom, ack] };
  store.apply(change({ incidents: [acked], timeline: [{ incidentId: 1, entry: ack }] }));
  store.close();

  const again = openStore(file);
  t.teardown(() => again.close());
  const state = again.loadEngineState(0);
  t.strictSame(state.incidents, [acked], 'incident read back exactly, timeline in order');
  t.strictSame(state.subjects, subjects, 'subjects read back exactly (ok: null stays null)');
  t.equal(state.nextIncidentId, 2);
  t.strictSame(again.getIncident(1), acked);
  t.equal(again.getIncident(99), null);
  t.strictSame(
    again.pendingMessages(10).map((m) => m.body),
    messages.map((m) => m.body),
    'the undelivered messages are still there',
  );
});

t.test('loadEngineState skips incidents resolved before the window', async (t) => {
  const store = openStore(join(tmpDir(t), 'vigil.db'));
  t.teardown(() => store.close());
  t.same(store.loadEngineState(0), { subjects: [], incidents: [], nextIncidentId: 1 }, 'empty store');
  store.apply(change({ incidents: [resolved(1, T0), resolved(2, T0 + 10 * 60_000), incident(3), incident(4, { state: 'acknowledged' })] }));
  const { incidents, nextIncidentId } = store.loadEngineState(T0 + 5 * 60_000);
  t.same(incidents.map((i) => i.id), [2, 3, 4]);
  t.equal(nextIncidentId, 5);
  t.same(store.loadEngineState(T0 + 10 * 60_000).incidents.map((i) => i.id), [2, 3, 4], 'the window is inclusive');
});

t.test('incident ids keep increasing after the newest ones are pruned', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  store.apply(
    change({
      incidents: [resolved(1, T0), resolved(2, T0), resolved(3, T0)],
      timeline: [{ incidentId: 3, entry: { at: T0, event: 'resolved', detail: 'passing again' } }],
    }),
  );
  t.same(store.prune(T0 + 100 * 86_400_000, 90 * 86_400_000), { incidents: 3, messages: 0, uptime: 0 });
  t.equal(store.loadEngineState(0).nextIncidentId, 4);
  store.close();

  const again = openStore(file);
  t.equal(again.loadEngineState(0).nextIncidentId, 4, 'still 4 after a restart');
  again.apply(change({ incidents: [incident(4)] }));
  t.equal(again.loadEngineState(0).nextIncidentId, 5);
  again.close();
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.equal((raw.prepare('SELECT count(*) AS n FROM timeline').get() as { n: number }).n, 0, 'timeline went with its incident');
});

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

t.test('listIncidents: open means open or acknowledged, newest first, limit 50 by default and 500 at most', async (t) => {
  const store = openStore(join(tmpDir(t), 'vigil.db'));
  t.teardown(() => store.close());
  const many = Array.from({ length: 600 }, (_, i) => resolved(i + 1, T0 + i));
  store.apply(change({ incidents: [...many, incident(601), incident(602, { state: 'acknowledged' }), resolved(603, T0)] }));

  t.same(store.listIncidents({ state: 'open' }).map((i) => [i.id, i.state]), [[602, 'acknowledged'], [601, 'open']]);
  t.same(store.listIncidents({ state: 'resolved', limit: 2 }).map((i) => i.id), [603, 600]);
  t.same(store.listIncidents({ limit: 3 }).map((i) => i.id), [603, 602, 601]);
  t.equal(store.listIncidents({}).length, 50);
  t.equal(store.listIncidents({ limit: 0 }).length, 50, 'a nonsense limit falls back to the default');
  t.equal(store.listIncidents({ limit: 10_000 }).length, 500);
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

t.test('push heartbeats: the clock of a probe never pinged, the last ping kept across a reopen', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  let store = openStore(file);
  t.equal(store.pushState('nightly-backup'), null, 'a probe never watched has no state');
  store.watchPush('nightly-backup', 1_000);
  store.watchPush('nightly-backup', 5_000);
  t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: null }, 'watching again keeps the first clock');
  store.recordPush('nightly-backup', { at: 7_000, ok: false, message: 'pg_dump failed' });
  store.close();
  store = openStore(file);
  t.teardown(() => store.close());
  t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: { at: 7_000, ok: false, message: 'pg_dump failed' } }, 'kept across a restart');
  store.recordPush('nightly-backup', { at: 9_000, ok: true, message: null });
  store.watchPush('nightly-backup', 10_000);
  t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: { at: 9_000, ok: true, message: null } }, 'only the last ping is kept');
  store.recordPush('hourly-export', { at: 2_000, ok: true, message: null });
  t.same(store.pushState('hourly-export'), { watchingSince: 2_000, last: { at: 2_000, ok: true, message: null } }, 'a ping before any watch starts the clock too');
});
