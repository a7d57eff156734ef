// One incident per root cause: the same-round root (dependents wait for their upstream) and hand-over when the root recovers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { route } from '../../src/notify/route.js';
import type { IncidentEvent } from '../../src/types.js';
import { GROUPING_SLACK_MS, MAX_GROUPING_WAIT_MS, upstreamToWaitFor, withDatabaseDependencies } from '../../src/incidents/grouping.js';
import { Draft } from '../../src/incidents/draft.js';
import { config, fail, Harness, meta, MINUTE, pass, SECOND, T0, types } from './fixtures.js';

const db = meta('db-ready', { type: 'pg_ready', service: 'db', summary: 'Backend DB unreachable' });
const health = meta('backend-health', { summary: 'Backend API down', dependsOn: ['db-ready'] });
// What the daemon's engine config gives a pg_long_queries probe on the same database (withDatabaseDependencies).
const longQueries = meta('long-queries', { type: 'pg_long_queries', service: 'db', severity: 'S3', summary: 'Long-running queries', dependsOn: ['db-ready'] });
const ALL_DISCORD = { discord: { errors: true, warnings: true, ops: true } };
const opsLines = (events: IncidentEvent[]) =>
  events.flatMap((e) => route(e, ALL_DISCORD).filter((r) => r.channel === 'ops').map((r) => (r.body as IncidentEvent).type));

/** The production DB stops: dependents' runs arrive before the database's own second failure. */
function dbStops(h: Harness): IncidentEvent[] {
  const events: IncidentEvent[] = [];
  const at = (s: number, probe: string) => events.push(...h.at(s * SECOND).run(probe, fail(probe, `${probe} failing`)).events);
  at(0, 'backend-health');
  at(5, 'long-queries');
  at(20, 'db-ready');
  at(30, 'backend-health'); // at its threshold, but db-ready is still confirming: waits
  at(35, 'long-queries'); // the same
  at(50, 'db-ready'); // confirmed: opens, and the two waiting failures join it at once
  at(60, 'backend-health');
  at(65, 'long-queries');
  return events;
}

t.test('DB stopped with its dependents failing in the same round: one incident, one [INCIDENT] line in #ops', async (t) => {
  const h = new Harness(config([db, health, longQueries]));
  const events = dbStops(h);
  t.same(types({ events } as never), ['opened', 'symptom', 'symptom']);
  t.match(events[0], { type: 'opened', incidentId: 1, findingKey: 'db-ready', summary: 'Backend DB unreachable', at: h.now - 15 * SECOND });
  t.match(events[1], { findingKey: 'backend-health', detail: 'backend-health failing too (held back until db-ready was confirmed)' });
  t.equal(h.state.incidents.size, 1);
  t.match(h.incident(1), { rootKey: 'db-ready', symptoms: ['backend-health', 'long-queries'], detectedAt: h.incident(1).openedAt - 30 * SECOND });
  t.same(opsLines(events), ['opened'], 'exactly one #ops line');
});

t.test('a waiting failure opens its own incident once its upstream recovers or the wait is over', async (t) => {
  const recovers = new Harness(config([db, health]));
  recovers.at(0).run('backend-health', fail('backend-health'));
  recovers.at(10 * SECOND).run('db-ready', fail('db-ready'));
  t.same(types(recovers.at(30 * SECOND).run('backend-health', fail('backend-health'))), [], 'waits for db-ready');
  recovers.at(40 * SECOND).run('db-ready', pass('db-ready'));
  t.same(types(recovers.at(60 * SECOND).run('backend-health', fail('backend-health'))), ['opened'], 'db-ready is fine: its own incident');

  const slow = meta('db-ready', { ...db, intervalMs: 10 * MINUTE, failureThreshold: 3 });
  const h = new Harness(config([slow, health]));
  h.at(0).run('db-ready', fail('db-ready'));
  h.at(10 * SECOND).run('backend-health', fail('backend-health'));
  t.same(types(h.at(40 * SECOND).run('backend-health', fail('backend-health'))), []);
  t.ok(upstreamToWaitFor(draftAt(h, MAX_GROUPING_WAIT_MS - 1), 'backend-health', 'backend-health', h.cfg.probes), 'still waiting just before the cap');
  t.same(types(h.at(MAX_GROUPING_WAIT_MS).run('backend-health', fail('backend-health'))), ['opened'], 'a slow upstream holds a page back at most the cap');
  t.ok(GROUPING_SLACK_MS > 0);
});

function draftAt(h: Harness, ms: number): Draft {
  return new Draft(h.state, T0 + ms);
}

t.test('root recovers, a symptom still fails: handed over and announced, acknowledged owner kept', async (t) => {
  const h = new Harness(config([db, health]));
  dbStopsSimple(h);
  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  const respondBy = h.incident(1).respondBy;
  h.at(10 * MINUTE).run('db-ready', pass('db-ready'));
  h.at(10 * MINUTE + 15 * SECOND).run('backend-health', fail('backend-health')); // still failing with the database back
  const r = h.at(10 * MINUTE + 30 * SECOND).run('db-ready', pass('db-ready'));
  t.same(types(r), ['handed_over']);
  t.match(r.events[0], { severity: 'S1', summary: 'Backend API down', previousSummary: 'Backend DB unreachable', findingKey: 'backend-health' });
  t.same(opsLines(r.events), ['handed_over'], 'announced in #ops');
  t.match(h.incident(1), { state: 'acknowledged', acknowledgedBy: 'ana', respondBy, rootKey: 'backend-health', symptoms: [], formerRoots: ['db-ready'] });

  // The database fails again: it takes the incident back, and the API is its symptom again.
  h.at(11 * MINUTE).run('db-ready', fail('db-ready'));
  const back = h.at(11 * MINUTE + 30 * SECOND).run('db-ready', fail('db-ready', 'refused again'));
  t.same(types(back), ['handed_over']);
  t.match(back.events[0], { findingKey: 'db-ready', summary: 'Backend DB unreachable', previousSummary: 'Backend API down' });
  t.match(h.incident(1), { rootKey: 'db-ready', symptoms: ['backend-health'], formerRoots: ['db-ready', 'backend-health'] });
  t.equal(h.state.incidents.size, 1);
});

t.test('a symptom whose last failure is from the outage itself is stale: the incident resolves, no hand-over page', async (t) => {
  const connections = meta('connections', { type: 'pg_connections', service: 'db', severity: 'S2', summary: 'DB connections near the limit', dependsOn: ['db-ready'] });
  const h = new Harness(config([db, connections]));
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.repeat(2, 'connections', fail('connections', 'could not connect'));
  t.same(h.incident(1).symptoms, ['connections']);
  // PostgreSQL is back: db-ready passes twice before pg_connections runs again.
  h.at(5 * MINUTE).run('db-ready', pass('db-ready'));
  const r = h.at(5 * MINUTE + 30 * SECOND).run('db-ready', pass('db-ready'));
  t.same(types(r), ['resolved', 'review'], 'no hand-over on a result from before the recovery');
  t.match(h.state.subjects.get('connections'), { ok: false, failures: 0, incidentId: null });
  t.same(types(h.at(5 * MINUTE + 35 * SECOND).run('connections', pass('connections'))), [], 'its next run passes: nothing to say');

  // Failing for real after the recovery is a new failure, confirmed like any other.
  h.at(7 * MINUTE).run('connections', fail('connections', '97 of 100 connections in use'));
  t.same(types(h.at(7 * MINUTE + 30 * SECOND).run('connections', fail('connections', '97 of 100 connections in use'))), ['opened']);
  t.match(h.incident(2), { rootKey: 'connections', severity: 'S2' });
});

function dbStopsSimple(h: Harness): void {
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.repeat(2, 'backend-health', fail('backend-health'));
}

t.test('hand-over picks the most upstream still-failing symptom; an unrelated one becomes its own incident', async (t) => {
  const web = meta('web', { summary: 'Webapp down', service: 'webapp', severity: 'S2', dependsOn: ['backend-health'] });
  const h = new Harness(config([db, health, longQueries, web]));
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.repeat(2, 'web', fail('web'));
  h.repeat(2, 'long-queries', fail('long-queries'));
  h.repeat(2, 'backend-health', fail('backend-health'));
  t.same(h.incident(1).symptoms, ['web', 'long-queries', 'backend-health']);
  t.equal(h.incident(1).respondBy, h.incident(1).openedAt + 30 * MINUTE);

  h.at(40 * MINUTE).run('db-ready', pass('db-ready'));
  for (const probe of ['web', 'long-queries', 'backend-health']) h.at(40 * MINUTE + 10 * SECOND).run(probe, fail(probe));
  const r = h.at(40 * MINUTE + 30 * SECOND).run('db-ready', pass('db-ready'));
  t.same(types(r), ['handed_over', 'opened']);
  t.match(r.events[0], { incidentId: 1, findingKey: 'backend-health', respondBy: h.now + 30 * MINUTE }, 'web depends on backend-health: not the root');
  t.match(r.events[1], { incidentId: 2, findingKey: 'long-queries', severity: 'S3' }, 'long queries do not depend on the API');
  t.match(h.incident(1), { rootKey: 'backend-health', symptoms: ['web'], lastReminderAt: null });
  t.match(h.state.subjects.get('long-queries'), { incidentId: 2 });
});

t.test('the implicit database dependency: probes on a database depend on its pg_ready probes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-deps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vigil.yaml');
  process.env.VIGIL_TEST_DB_URL = 'postgres://vigil@127.0.0.1:5432/app';
  t.teardown(() => delete process.env.VIGIL_TEST_DB_URL);
  writeFileSync(
    file,
    `environments: { production: {} }
databases: { prod-db: { environment: production, url_env: VIGIL_TEST_DB_URL } }
probes:
  - { id: db-ready, type: pg_ready, database: prod-db, service: db }
  - { id: long-queries, type: pg_long_queries, database: prod-db, service: db }
  - { id: api, type: http, environment: production, service: backend, url: "http://127.0.0.1:9/", depends_on: [db-ready] }
`,
  );
  const metas = new Map(withDatabaseDependencies(loadConfig(file).probes).map((p) => [p.id, p]));
  t.same(metas.get('long-queries')!.dependsOn, ['db-ready']);
  t.same(metas.get('db-ready')!.dependsOn, [], 'pg_ready is the database itself');
  t.same(metas.get('api')!.dependsOn, ['db-ready'], 'nothing added twice');
});
