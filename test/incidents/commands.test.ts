// Operator commands: ack, resolve and note, with their not_found (404) and conflict (409) answers.
import t from 'tap';
import { config, fail, Harness, meta, MINUTE, types } from './fixtures.js';
import { matchExactly } from '../helpers/match.js';

const db = meta('db-ready', { summary: 'Backend DB unreachable', failureThreshold: 1, successThreshold: 1 });
const api = meta('api', { summary: 'Backend API down', failureThreshold: 2, dependsOn: ['db-ready'] });

function openIncident(): Harness {
  const h = new Harness(config([db, api]));
  h.run('db-ready', fail('db-ready'));
  return h;
}

t.test('ack: open → acknowledged, once', async (t) => {
  const h = openIncident();
  const r = h.at(4 * MINUTE).cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  if (!r.ok) throw new Error(r.message);
  t.match(r.incident, { state: 'acknowledged', acknowledgedAt: h.now, acknowledgedBy: 'ana' });
  matchExactly(t, r.events, [{ type: 'acknowledged', by: 'ana', incidentId: 1, detail: 'Acknowledged by ana after 4m', durationMs: 4 * MINUTE }]);
  t.same(r.changed.timeline, [{ incidentId: 1, entry: { at: h.now, event: 'acknowledged', by: 'ana', detail: 'Acknowledged by ana after 4m' } }]);
  t.same(r.changed.incidents, [r.incident]);

  t.match(h.cmd({ type: 'ack', incidentId: 1, by: 'bo' }), { ok: false, code: 'conflict', message: 'incident 1 is already acknowledged' });
  t.equal(h.incident(1).acknowledgedBy, 'ana', 'the first acknowledgement stands');
  t.match(h.cmd({ type: 'ack', incidentId: 99, by: 'ana' }), { ok: false, code: 'not_found' });
});

t.test('resolve: by hand from open or acknowledged, with the note, and 409 once resolved', async (t) => {
  const h = openIncident();
  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  const r = h.at(12 * MINUTE + 30_000).cmd({ type: 'resolve', incidentId: 1, by: 'ana', note: 'restarted postgres' });
  if (!r.ok) throw new Error(r.message);
  t.same(types(r), ['note', 'resolved', 'review']);
  t.match(r.events[1], { by: 'ana', durationMs: 12 * MINUTE + 30_000, detail: 'Resolved by ana after 12m 30s' });
  t.match(r.incident, { state: 'resolved', resolvedAt: h.now });
  t.same(
    r.incident.timeline.map((e) => [e.event, e.by, e.detail]),
    [
      ['opened', undefined, 'db-ready failing: db-ready refused'],
      ['acknowledged', 'ana', 'Acknowledged by ana after 0ms'],
      ['note', 'ana', 'restarted postgres'],
      ['resolved', 'ana', 'Resolved by ana after 12m 30s'],
      ['review', undefined, 'Post-incident review draft: run "vigil review 1"'],
    ],
  );
  t.same(r.changed.timeline.length, 3);
  t.match(h.cmd({ type: 'resolve', incidentId: 1, by: 'bo' }), { ok: false, code: 'conflict' });
  t.match(h.cmd({ type: 'ack', incidentId: 1, by: 'bo' }), { ok: false, code: 'conflict', message: 'incident 1 is already resolved' });
  t.match(h.cmd({ type: 'resolve', incidentId: 7, by: 'bo' }), { ok: false, code: 'not_found' });
});

t.test('a hand-resolved incident whose root still fails reopens only after the failure is confirmed again', async (t) => {
  const h = openIncident();
  h.run('api', fail('api'));
  h.run('api', fail('api'));
  t.same(h.incident(1).symptoms, ['api']);
  const r = h.at(MINUTE).cmd({ type: 'resolve', incidentId: 1, by: 'ana' });
  if (!r.ok) throw new Error(r.message);
  t.same(types(r), ['resolved', 'review'], 'no new incident or hand-over for the symptom: the operator just said it is fixed');
  t.match(h.state.subjects.get('db-ready'), { ok: false, failures: 0, incidentId: null });
  t.match(h.state.subjects.get('api'), { ok: false, failures: 0, incidentId: null });

  const again = h.at(2 * MINUTE).run('db-ready', fail('db-ready'));
  t.same(types(again), ['reopened'], 'still failing within the window: the same incident comes back');
  t.equal(again.events[0]!.incidentId, 1);
});

t.test('note: allowed in any state, kept verbatim; unknown or long-gone ids are not_found', async (t) => {
  const h = openIncident();
  const text = 'checked pg_stat_activity:\n  42 idle in transaction';
  const open = h.cmd({ type: 'note', incidentId: 1, by: 'ana', text });
  if (!open.ok) throw new Error(open.message);
  matchExactly(t, open.events, [{ type: 'note', by: 'ana', detail: text }]);
  t.equal(open.incident.state, 'open', 'a note changes no state');
  h.cmd({ type: 'resolve', incidentId: 1, by: 'ana' });
  t.match(h.cmd({ type: 'note', incidentId: 1, by: 'bo', text: 'root cause: pool size' }), { ok: true });
  t.same(h.incident(1).timeline.at(-1), { at: h.now, event: 'note', by: 'bo', detail: 'root cause: pool size' });

  h.at(30 * MINUTE).tick();
  t.match(h.cmd({ type: 'note', incidentId: 1, by: 'bo', text: 'late' }), { ok: false, code: 'not_found' }, 'resolved past the reopen window: not in the engine');
});
