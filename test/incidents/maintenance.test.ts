// Maintenance windows: which are active when, and incidents inside them recorded but paged only at the window's end.
import t from 'tap';
import { initialState } from '../../src/incidents/engine.js';
import { latestCronStart } from '../../src/cron.js';
import { activeWindows } from '../../src/incidents/maintenance.js';
import { NO_DISCORD, route } from '../../src/notify/route.js';
import { config, fail, Harness, meta, MINUTE, pass, SECOND, T0, types } from './fixtures.js';

// T0 is Monday 2025-01-06 03:00 UTC; the window is Mondays 03:00 for 30 minutes, production backend only.
const weekly = { environment: 'production', service: 'backend', cron: '0 3 * * 1', duration: 30 * MINUTE, reason: 'weekly DB backup' };
const fixed = { environment: 'staging', start: '2025-01-06T02:00:00Z', end: '2025-01-06T04:00:00+00:00' };

t.test('cron and fixed windows: active in [start, end), scoped, named by their reason', async (t) => {
  t.same(activeWindows([weekly], T0 - 1), []);
  t.match(activeWindows([weekly, fixed], T0), [
    { index: 0, label: 'weekly DB backup', environment: 'production', service: 'backend', startedAt: T0, endsAt: T0 + 30 * MINUTE },
    { index: 1, label: 'staging 2025-01-06T02:00:00Z to 2025-01-06T04:00:00+00:00', service: null, endsAt: T0 + 60 * MINUTE },
  ]);
  t.equal(activeWindows([weekly], T0 + 30 * MINUTE - 1).length, 1);
  t.same(activeWindows([weekly], T0 + 30 * MINUTE), [], 'the end is exclusive');
  t.same(activeWindows([weekly], T0 + 7 * 24 * 60 * MINUTE + MINUTE).map((w) => w.startedAt), [T0 + 7 * 24 * 60 * MINUTE], 'next week again');
  t.same(activeWindows([weekly], T0 + 24 * 60 * MINUTE + MINUTE), [], 'not on Tuesday');
  // node-cron's own day rules (L: last day of the month) and a window longer than a day.
  t.equal(latestCronStart('0 22 L * *', Date.UTC(2025, 1, 1, 6), 12 * 60 * MINUTE), Date.UTC(2025, 0, 31, 22));
  t.equal(latestCronStart('*/15 * * * *', T0 + 20 * MINUTE, 10 * MINUTE), T0 + 15 * MINUTE, 'the latest start counts');
  t.equal(latestCronStart('0 3 * * 1', T0 + 3 * 24 * 60 * MINUTE, 2 * 24 * 60 * MINUTE), null);
});

const api = meta('api', { summary: 'Backend API down', failureThreshold: 1, successThreshold: 1 });
const web = meta('web', { summary: 'Webapp down', service: 'webapp', failureThreshold: 1 });
const cfg = { ...config([api, web]), maintenance: [weekly] };

t.test('opened inside a window: recorded, not paged, no response clock; out of scope pages as usual', async (t) => {
  const h = new Harness(cfg);
  const r = h.at(5 * MINUTE).run('api', fail('api', 'connection refused'));
  t.same(types(r), ['maintenance']);
  t.match(r.events[0], {
    held: true,
    detail: 'Inside maintenance window "weekly DB backup", not paged until it ends: api failing: connection refused',
  });
  t.match(h.incident(1), { state: 'open', maintenance: 'weekly DB backup', respondBy: null });
  t.same(r.events.flatMap((e) => route(e, NO_DISCORD)), [], 'nothing is routed');
  t.same(types(h.at(6 * MINUTE).run('web', fail('web'))), ['opened'], 'the webapp is not in the window');
  t.same(h.at(29 * MINUTE).tick().events.filter((e) => e.incidentId === 1), [], 'no reminder while held');
});

t.test('still open at the window end: paged then, with a fresh response clock and reminders after', async (t) => {
  const h = new Harness(cfg);
  h.at(5 * MINUTE).run('api', fail('api', 'connection refused', { evidence: 'ECONNREFUSED 10.0.0.2:8000' }));
  const end = h.at(30 * MINUTE).tick();
  t.same(types(end), ['opened']);
  t.match(end.events[0], {
    held: undefined,
    evidence: 'ECONNREFUSED 10.0.0.2:8000',
    respondBy: h.now + 30 * MINUTE,
    detail: 'Still failing after maintenance window "weekly DB backup" ended: connection refused',
  });
  t.match(route(end.events[0]!, NO_DISCORD), [{ channel: 'ops', body: { text: '[INCIDENT] S1 - Backend API down on production. Investigating.' } }]);
  t.match(h.incident(1), { maintenance: null, openedAt: T0 + 5 * MINUTE });
  t.same(types(h.at(31 * MINUTE).tick()), [], 'paged once');
  t.same(types(h.at(60 * MINUTE).tick()), ['reminder'], 'the clock runs from the page');
  t.same(h.incident(1).timeline.map((e) => e.event), ['maintenance', 'opened', 'reminder']);
});

t.test('resolved inside the window: never paged; acknowledged inside: not paged at the end either', async (t) => {
  const h = new Harness(cfg);
  h.at(5 * MINUTE).run('api', fail('api'));
  const resolved = h.at(10 * MINUTE).run('api', pass('api'));
  t.same(types(resolved), ['resolved', 'review']);
  t.ok(resolved.events.every((e) => e.held === true));
  t.same(resolved.events.flatMap((e) => route(e, NO_DISCORD)), []);
  t.same(types(h.at(30 * MINUTE).tick()), [], 'nothing left to page at the end');

  const acked = new Harness(cfg);
  acked.at(5 * MINUTE).run('api', fail('api'));
  acked.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  const end = acked.at(30 * MINUTE).tick();
  t.same(types(end), ['maintenance']);
  t.match(end.events[0], { held: undefined, detail: 'Maintenance window "weekly DB backup" over; already acknowledged by ana' });
  t.same(route(end.events[0]!, NO_DISCORD), []);
});

t.test('reopened inside a window is held too, and the hold survives a restart', async (t) => {
  const h = new Harness(cfg);
  h.at(-20 * MINUTE).run('api', fail('api'));
  h.at(-15 * MINUTE).run('api', pass('api'));
  const reopened = h.at(-10 * MINUTE + 2 * MINUTE + SECOND).run('api', fail('api'));
  t.same(types(reopened), ['reopened'], 'before the window: pages');
  h.at(-5 * MINUTE).run('api', pass('api'));
  const inside = h.at(2 * MINUTE).run('api', fail('api'));
  t.same(types(inside), ['maintenance']);
  t.match(h.incident(1), { state: 'open', maintenance: 'weekly DB backup', respondBy: null });
  t.equal(h.store.incidents.get(1)!.maintenance, 'weekly DB backup', 'written with the incident');
  const restarted = new Harness(cfg, initialState(h.store.load()));
  t.same(types(restarted.at(20 * MINUTE).tick()), [], 'still held after a restart');
  t.same(types(restarted.at(30 * MINUTE).tick()), ['opened'], 'and paged at the end');
});
