// A populated schema-1 SQLite file upgraded in place (what the store keeps across a restart is in the shared suite).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/sqlite.js';
import { makeIncident, NOW } from '../server/harness.js';
import { tmpDir } from '../helpers/tmp.js';

t.test('a populated schema-1 store is upgraded in place, its history kept', async (t) => {
  const path = join(tmpDir(t), 'vigil.db');
  const old = new Database(path);
  old.exec(MIGRATIONS[0]!);
  old.pragma('user_version = 1');
  old.prepare(
    `INSERT INTO incidents (id, state, severity, environment, service, summary, root_probe, root_key, symptoms, opened_at, acknowledged_at, acknowledged_by, resolved_at, respond_by, last_reminder_at, message, evidence)
     VALUES (1, 'acknowledged', 'S1', 'production', 'db', 'Backend DB unreachable', 'db-ready', 'db-ready', '["backend-health"]', ?, ?, 'ana', NULL, ?, NULL, 'connection refused', ?)`,
  ).run(NOW - 600_000, NOW - 300_000, NOW + 1_200_000, JSON.stringify([{ at: NOW - 590_000, source: 'db-ready', text: 'pg_isready: no response' }]));
  old.prepare(`INSERT INTO timeline (incident_id, seq, at, event, detail, "by") VALUES (1, 1, ?, 'opened', 'connection refused', NULL), (1, 2, ?, 'acknowledged', 'Acknowledged by ana after 5m', 'ana')`).run(NOW - 600_000, NOW - 300_000);
  old.prepare(`INSERT INTO subjects (key, probe, ok, failures, successes, severity, since, incident_id) VALUES ('db-ready', 'db-ready', 0, 4, 0, 'S1', ?, 1)`).run(NOW - 600_000);
  old.prepare(`INSERT INTO outbox (sink, channel, created_at, incident_id, event, body, next_attempt_at) VALUES ('discord', 'ops', ?, 1, 'acknowledged', '{"content":"[ACK]"}', ?)`).run(NOW - 300_000, NOW - 300_000);
  old.close();

  const store = openStore(path, { now: () => NOW });
  t.teardown(() => store.close());
  const raw = new Database(path, { readonly: true });
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'migrated to the current schema');
  raw.close();

  const incident = store.getIncident(1);
  t.match(incident, {
    state: 'acknowledged',
    severity: 'S1',
    summary: 'Backend DB unreachable',
    symptoms: ['backend-health'],
    openedAt: NOW - 600_000,
    acknowledgedBy: 'ana',
    evidence: [{ source: 'db-ready', text: 'pg_isready: no response' }],
  });
  t.notOk(incident?.detectedAt, 'no detected_at for an incident written before it existed');
  t.notOk(incident?.maintenance, 'nor a maintenance window');
  t.same(incident?.formerRoots ?? [], [], 'nor former roots');
  t.same(incident?.timeline.map((e) => [e.event, e.by ?? null]), [['opened', null], ['acknowledged', 'ana']], 'the timeline is kept');
  const state = store.loadEngineState(NOW - 600_000);
  t.match(state.subjects, [{ key: 'db-ready', ok: false, failures: 4, incidentId: 1 }], 'the subject counters are kept');
  t.equal(state.nextIncidentId, 2);
  t.equal(store.pendingCount(), 1, 'the undelivered message is still pending');

  // The new columns take values on the upgraded file.
  store.apply({ subjects: [], incidents: [{ ...incident!, detectedAt: NOW - 620_000, formerRoots: ['backend-ps:db'] }], timeline: [], messages: [], events: [] });
  t.match(store.getIncident(1), { detectedAt: NOW - 620_000, formerRoots: ['backend-ps:db'] });
});
