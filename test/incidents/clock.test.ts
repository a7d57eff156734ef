// The engine's tick(): `after` escalation, response-clock reminders, forgetting old incidents — on a fake clock.
import t from 'tap';
import { initialState } from '../../src/incidents/engine.js';
import type { IncidentEvent } from '../../src/types.js';
import { config, fail, Harness, isEmpty, meta, MINUTE, pass, types } from './fixtures.js';

const critical = meta('api', { summary: 'Backend API down', severity: 'S1', failureThreshold: 1, successThreshold: 1 });
const major = meta('queue', { summary: 'Generation queue stuck', severity: 'S2', failureThreshold: 1 });
const minor = meta('export', {
  summary: 'Exports failing',
  severity: 'S3',
  failureThreshold: 1,
  escalate: [{ after: 30 * MINUTE, severity: 'S1' }],
});

/** Ticks once a minute from `from` to `to` minutes and returns the events. */
function tickEachMinute(h: Harness, from: number, to: number): IncidentEvent[] {
  const events: IncidentEvent[] = [];
  for (let m = from; m <= to; m += 1) events.push(...h.at(m * MINUTE).tick().events);
  return events;
}

t.test('an after rule escalates an open incident on tick, announced with the previous severity', async (t) => {
  const h = new Harness(config([minor]));
  t.match(h.run('export', fail('export')).events, [{ type: 'opened', severity: 'S3', respondBy: Date.UTC(2025, 0, 7, 9) }]);
  t.ok(isEmpty(h.at(29 * MINUTE).tick()));
  const r = h.at(30 * MINUTE).tick();
  t.same(types(r), ['escalated']);
  t.match(r.events[0], {
    severity: 'S1',
    previousSeverity: 'S3',
    respondBy: h.now + 30 * MINUTE,
    durationMs: 30 * MINUTE,
    detail: 'Escalated from S3 to S1: open for 30m',
  });
  t.equal(r.events[0]!.evidence, undefined, 'time alone brings no new evidence');
  t.ok(isEmpty(h.at(31 * MINUTE).tick()), 'escalates once');
  const next = h.run('export', fail('export'));
  t.same(types(next), [], 'the next failing run agrees with the escalated severity');
  t.same(next.changed.incidents, []);
});

t.test('S1 reminders at 30 min, then every 30 min, until acknowledged', async (t) => {
  const h = new Harness(config([critical]));
  h.run('api', fail('api'));
  const reminders = tickEachMinute(h, 1, 95).filter((e) => e.type === 'reminder');
  t.same(
    reminders.map((e) => [(e.at - h.incident(1).openedAt) / MINUTE, e.detail]),
    [
      [30, 'Unacknowledged for 30m'],
      [60, 'Unacknowledged for 1h'],
      [90, 'Unacknowledged for 1h 30m'],
    ],
  );
  t.match(reminders[0], { incidentId: 1, severity: 'S1', summary: 'Backend API down', environment: 'production' });
  t.equal(h.incident(1).lastReminderAt, h.incident(1).openedAt + 90 * MINUTE);
  t.equal(h.store.incidents.get(1)!.lastReminderAt, h.incident(1).lastReminderAt, 'the reminder clock is written');
  t.same(h.incident(1).timeline.filter((e) => e.event === 'reminder').length, 3);

  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  t.same(tickEachMinute(h, 96, 300), [], 'no reminder once acknowledged');
});

t.test('S2 reminders every 2 h; S3 is not due before the next business day', async (t) => {
  const h = new Harness(config([major, { ...minor, escalate: [] }]));
  h.run('queue', fail('queue'));
  h.run('export', fail('export'));
  const events: IncidentEvent[] = [];
  for (let m = 10; m <= 7 * 60; m += 10) events.push(...h.at(m * MINUTE).tick().events);
  t.same(
    events.map((e) => [e.type, e.incidentId, (e.at - h.incident(1).openedAt) / MINUTE]),
    [
      ['reminder', 1, 120],
      ['reminder', 1, 240],
      ['reminder', 1, 360],
    ],
  );
});

t.test('reminders stop when the incident resolves, and a quiet tick changes nothing', async (t) => {
  const h = new Harness(config([critical]));
  h.run('api', fail('api'));
  t.same(types(h.at(30 * MINUTE).tick()), ['reminder']);
  h.at(40 * MINUTE).run('api', pass('api'));
  const before = h.state;
  const quiet = h.at(45 * MINUTE).tick();
  t.ok(isEmpty(quiet));
  t.equal(quiet.state, before, 'nothing due and nothing to forget: the same state');
});

t.test('tick forgets incidents resolved longer ago than the reopen window, without a write', async (t) => {
  const h = new Harness(config([critical]));
  h.run('api', fail('api'));
  h.at(MINUTE).run('api', pass('api'));
  h.at(11 * MINUTE).tick();
  t.ok(h.state.incidents.has(1), 'kept while it may still reopen');
  const r = h.at(11 * MINUTE + 1).tick();
  t.notOk(h.state.incidents.has(1));
  t.ok(isEmpty(r), 'the store keeps its history, so nothing to write');
  t.same(types(h.run('api', fail('api'))), ['opened']);
  t.equal(h.state.incidents.get(2)?.rootKey, 'api');
});

t.test('restart keeps the response clock: no repeat of a reminder already sent', async (t) => {
  const cfg = config([critical]);
  const before = new Harness(cfg);
  before.run('api', fail('api'));
  t.same(types(before.at(30 * MINUTE).tick()), ['reminder']);

  const after = new Harness(cfg, initialState(before.store.load()));
  t.same(tickEachMinute(after, 31, 59), []);
  t.same(types(after.at(60 * MINUTE).tick()), ['reminder']);
});
