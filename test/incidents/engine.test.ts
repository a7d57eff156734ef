// The engine's step(): thresholds, severities, escalation, flapping, resolution, and that it writes only real changes.
import t from 'tap';
import { initialState, step } from '../../src/incidents/engine.js';
import type { StepResult } from '../../src/incidents/state.js';
import { route } from '../../src/notify/route.js';
import { config, fail, Harness, isEmpty, meta, MINUTE, pass, SECOND, T0, types } from './fixtures.js';

const api = meta('api', { summary: 'Backend API down', failureThreshold: 3, successThreshold: 2 });

t.test('an incident opens only at failure_threshold, with everything a message needs', async (t) => {
  const h = new Harness(config([api]));
  const [first, second, third] = h.repeat(3, 'api', fail('api', 'connection refused'));
  t.same(types(first!), []);
  t.same(types(second!), []);
  t.same(first!.changed.incidents, [], 'no incident before the threshold');
  t.match(second!.changed.subjects, [{ key: 'api', ok: false, failures: 2, incidentId: null }], 'counters are still written');

  t.same(types(third!), ['opened']);
  const opened = third!.events[0]!;
  t.same(opened, {
    type: 'opened',
    at: h.now,
    incidentId: 1,
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    probe: 'api',
    findingKey: 'api',
    summary: 'Backend API down',
    message: 'connection refused',
    openedAt: h.now,
    durationMs: 0,
    respondBy: h.now + 30 * MINUTE,
    evidence: 'evidence of api',
    detail: 'api failing: connection refused',
  });
  const incident = h.incident(1);
  t.match(incident, { state: 'open', rootProbe: 'api', rootKey: 'api', symptoms: [], resolvedAt: null });
  t.same(incident.timeline, [{ at: h.now, event: 'opened', detail: 'api failing: connection refused' }]);
  t.same(incident.evidence, [{ at: h.now, source: 'api', text: 'evidence of api' }]);
  t.same(third!.changed.timeline, [{ incidentId: 1, entry: incident.timeline[0] }]);
  t.same(third!.changed.incidents, [incident]);
  t.match(third!.changed.subjects, [{ key: 'api', failures: 3, incidentId: 1 }]);
  t.equal(h.state.nextIncidentId, 2);
});

t.test('a steady failing or passing stream writes nothing once past the thresholds', async (t) => {
  const h = new Harness(config([api, meta('web')]));
  h.repeat(3, 'api', fail('api'));
  for (const r of h.repeat(4, 'api', fail('api', 'a different refusal every time'))) {
    t.ok(isEmpty(r), 'steady failure: no events, no writes');
  }
  const passing = h.repeat(4, 'web', pass('web'));
  t.match(passing[0]!.changed.subjects, [{ key: 'web', ok: true, successes: 1 }]);
  t.match(passing[1]!.changed.subjects, [{ key: 'web', successes: 2 }]);
  const before = h.state;
  t.ok(isEmpty(passing[2]!) && isEmpty(passing[3]!), 'steady pass: no writes');
  t.equal(h.run('web', pass('web')).state, before, 'nothing changed, so the very same state comes back');
});

t.test('an incident resolves only at success_threshold, with its duration', async (t) => {
  const h = new Harness(config([api]));
  h.repeat(3, 'api', fail('api'));
  const openedAt = h.now;
  h.at(12 * MINUTE);
  const once = h.run('api', pass('api'));
  t.same(types(once), [], 'one pass is not enough');
  t.match(once.changed.subjects, [{ key: 'api', ok: true, failures: 0, successes: 1, incidentId: 1 }]);
  h.at(12 * MINUTE + 30 * SECOND);
  const twice = h.run('api', pass('api'));
  t.same(types(twice), ['resolved', 'review'], 'an S1 announces its review draft');
  t.match(twice.events[0], { durationMs: h.now - openedAt, detail: 'Resolved after 11m 30s: api passing', message: 'api ok' });
  t.match(twice.events[1], { incidentId: 1, severity: 'S1', detail: 'Post-incident review draft: run "vigil review 1"' });
  t.match(h.incident(1), { state: 'resolved', resolvedAt: h.now });
  t.match(h.state.subjects.get('api'), { incidentId: null, successes: 2 });
});

t.test('a flip before the threshold changes only the subject, and counters restart', async (t) => {
  const h = new Harness(config([api]));
  h.repeat(2, 'api', fail('api'));
  const flip = h.run('api', pass('api'));
  t.same(types(flip), []);
  t.match(flip.changed.subjects, [{ ok: true, failures: 0, successes: 1, since: h.now }]);
  const back = h.run('api', fail('api'));
  t.match(back.changed.subjects, [{ ok: false, failures: 1, successes: 0 }]);
  t.same(back.changed.incidents, []);
});

t.test('per-finding severity and summaries of secondary findings', async (t) => {
  const web = meta('web', { summary: 'Webapp down', service: 'webapp', failureThreshold: 1 });
  const ps = meta('ps', { type: 'compose_ps', summary: 'Containers unhealthy', severity: 'S2', failureThreshold: 1 });
  const h = new Harness(config([web, ps]));
  const slow = h.run('web', fail('web:latency', 'slow: 3.2 s over 2 s', { severity: 'S4' }));
  t.match(slow.events[0], { type: 'opened', severity: 'S4', summary: 'Webapp down (latency)', respondBy: null, findingKey: 'web:latency' });
  const redis = h.run('ps', fail('ps:redis', 'redis restarting', { severity: 'S1', service: 'redis' }));
  t.match(redis.events[0], { severity: 'S1', service: 'redis', summary: 'Containers unhealthy (redis)' });
  t.equal(h.incident(2).service, 'redis');
});

t.test('severity_cap: an S1 probe on staging opens an S3, due the next business day', async (t) => {
  const h = new Harness(config([meta('stg-api', { environment: 'staging', severity: 'S1' })]));
  const [, opened] = h.repeat(2, 'stg-api', fail('stg-api'));
  // T0 is Monday 03:00 UTC: due Tuesday 09:00 UTC.
  t.match(opened!.events[0], { type: 'opened', severity: 'S3', environment: 'staging', respondBy: Date.UTC(2025, 0, 7, 9) });
});

t.test('a count rule escalates with an announcement and a fall is only recorded', async (t) => {
  const longQueries = meta('db-long', { severity: 'S3', failureThreshold: 1, escalate: [{ count: 5, severity: 'S2' }] });
  const h = new Harness(config([longQueries]));
  const q = (count: number) => fail('db-long', `${count} long queries`, { values: { count }, evidence: `${count} rows` });
  t.match(h.run('db-long', q(2)).events, [{ type: 'opened', severity: 'S3', respondBy: Date.UTC(2025, 0, 7, 9) }]);

  h.at(10 * MINUTE);
  const up = h.run('db-long', q(6));
  t.same(types(up), ['escalated']);
  t.match(up.events[0], {
    severity: 'S2',
    previousSeverity: 'S3',
    respondBy: h.now + 120 * MINUTE,
    evidence: '6 rows',
    message: '6 long queries',
    durationMs: 10 * MINUTE,
    detail: 'Escalated from S3 to S2: 6 long queries',
  });
  t.match(h.incident(1), { severity: 'S2', respondBy: h.now + 120 * MINUTE, message: '6 long queries' });
  t.ok(isEmpty(h.run('db-long', q(7))), 'the same severity again is no change');

  const escalatedDue = h.now + 120 * MINUTE;
  h.at(20 * MINUTE);
  const down = h.run('db-long', q(1));
  t.same(types(down), ['deescalated'], 'recorded as its own event type, which never pages');
  t.match(down.events[0], { severity: 'S3', previousSeverity: 'S2', respondBy: escalatedDue }, 'the tighter deadline already running is kept');
  t.same(
    h.incident(1).timeline.map((e) => e.event),
    ['opened', 'escalated', 'deescalated'],
  );
});

t.test('flapping: reopening within 10 min keeps the id, later opens a new incident', async (t) => {
  const probe = meta('api', { failureThreshold: 1, successThreshold: 1 });
  const h = new Harness(config([probe]));
  h.run('api', fail('api'));
  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  h.at(MINUTE).run('api', pass('api'));
  const again = h.at(10 * MINUTE + MINUTE).run('api', fail('api', 'refused again', { evidence: 'second look' }));
  t.same(types(again), ['reopened']);
  t.match(again.events[0], { incidentId: 1, openedAt: T0, respondBy: h.now + 30 * MINUTE, evidence: 'second look' });
  t.match(h.incident(1), { state: 'open', resolvedAt: null, acknowledgedAt: null, acknowledgedBy: null, message: 'refused again' });
  t.equal(h.incident(1).evidence.length, 2, 'the new evidence is kept next to the first');
  t.same(h.incident(1).timeline.map((e) => e.event), ['opened', 'acknowledged', 'resolved', 'review', 'reopened']);
  t.match(h.incident(1).timeline[4], { detail: 'Reopened 10m after it resolved: refused again' });

  const resolvedAgain = h.at(12 * MINUTE).run('api', pass('api'));
  t.match(resolvedAgain.events[0], { type: 'resolved', durationMs: MINUTE }, 'the second outage is measured from its reopening, not the first opening');
  const late = h.at(22 * MINUTE + 1).run('api', fail('api'));
  t.same(types(late), ['opened'], 'past the window it is a new incident');
  t.equal(late.events[0]!.incidentId, 2);
});

t.test('a run of a probe missing from the config is ignored', async (t) => {
  const h = new Harness(config([api]));
  h.repeat(3, 'api', fail('api'));
  const before = h.state;
  const r = h.run('removed-probe', fail('removed-probe'), fail('api'));
  t.ok(isEmpty(r));
  t.equal(r.state, before);
});

t.test('step never mutates its input state', async (t) => {
  const cfg = config([api]);
  let state = initialState();
  for (let i = 0; i < 3; i += 1) state = step(state, { probe: 'api', findings: [fail('api')] }, T0 + i, cfg).state;
  // What reading the state shows, deep-copied: the maps are the engine's own persistent kind.
  const read = (s: typeof state) => structuredClone({ subjects: [...s.subjects], incidents: [...s.incidents], nextIncidentId: s.nextIncidentId });
  const snapshot = read(state);
  const r = step(state, { probe: 'api', findings: [pass('api')] }, T0 + 10, cfg);
  step(r.state, { probe: 'api', findings: [pass('api')] }, T0 + 20, cfg);
  t.same(read(state), snapshot, 'the old state still reads as it did');
  t.not(r.state.subjects, state.subjects);
  t.equal(state.subjects.get('api')!.failures, 3);
  t.equal(state.incidents.get(1)!.state, 'open');
});

t.test('restart: the state loaded from the written changes resumes the same incident', async (t) => {
  const cfg = config([api]);
  const before = new Harness(cfg);
  before.repeat(3, 'api', fail('api'));
  before.at(5 * MINUTE).run('api', pass('api'));

  const after = new Harness(cfg, initialState(before.store.load()));
  t.equal(after.state.nextIncidentId, 2);
  const failing = after.at(6 * MINUTE).run('api', fail('api'));
  t.same(types(failing), [], 'no new opened event for the incident already announced');
  t.match(after.state.subjects.get('api'), { failures: 1, incidentId: 1 });
  after.at(7 * MINUTE).run('api', pass('api'));
  const resolved = after.at(8 * MINUTE).run('api', pass('api'));
  t.match(resolved.events, [{ type: 'resolved', incidentId: 1, durationMs: 8 * MINUTE - 60 * SECOND }]);
});

t.test('a root flapping between two kinds of failure pages its escalation once, not after every outage', async (t) => {
  const ready = meta('db-ready', { type: 'pg_ready', summary: 'Backend DB unreachable', service: 'db' });
  const h = new Harness(config([ready]));
  const wrongPassword = () => fail('db-ready', 'vigil cannot authenticate as "vigil"', { severity: 'S2' });
  const refused = () => fail('db-ready', 'connection refused');
  const paging = (r: StepResult) => r.events.filter((e) => route(e, { discord: { errors: true, warnings: true, ops: true } }).length > 0).map((e) => e.type);
  t.same(paging(h.repeat(2, 'db-ready', wrongPassword())[1]!), ['opened']);
  t.match(h.incident(1), { severity: 'S2', pagedSeverity: 'S2' });
  t.same(paging(h.at(5 * MINUTE).run('db-ready', refused())), ['escalated'], 'the first outage pages: the database is down now');
  t.same(paging(h.at(6 * MINUTE).run('db-ready', wrongPassword())), [], 'back to the wrong password: recorded only');
  const second = h.at(10 * MINUTE).run('db-ready', refused());
  t.same(types(second), ['escalated'], 'recorded');
  t.same(paging(second), [], 'the next outage does not page "Escalated from S2" again');
  t.match(second.events[0], { held: true, detail: 'Escalated from S2 to S1 again, already paged at S1: connection refused' });
  t.match(h.incident(1), { severity: 'S1', pagedSeverity: 'S1' });

  // Kept across a restart, so a restarted vigil does not page it either.
  h.at(11 * MINUTE).run('db-ready', wrongPassword());
  const restarted = new Harness(h.cfg, initialState(h.store.load()));
  t.same(paging(restarted.at(12 * MINUTE).run('db-ready', refused())), []);
});
