// Grouping: dependent failures join the open incident of what they depend on as symptoms and never open their own.
import t from 'tap';
import { dependenciesOf } from '../../src/incidents/grouping.js';
import { eventLogLine, opsLine } from '../../src/notify/messages.js';
import { route } from '../../src/notify/route.js';
import type { IncidentEvent } from '../../src/types.js';
import { config, fail, Harness, meta, MINUTE, pass, SECOND, types } from './fixtures.js';

const db = meta('db-ready', { summary: 'Backend DB unreachable', service: 'db' });
const api = meta('api', { summary: 'Backend API down', dependsOn: ['db-ready'] });
const web = meta('web', { summary: 'Webapp down', service: 'webapp', dependsOn: ['api'] });
const ps = meta('ps', { type: 'compose_ps', summary: 'Containers unhealthy', severity: 'S2', implicitDeps: ['host:prod-backend'] });

t.test('dependencies are direct, transitive and implicit, and cycles end', async (t) => {
  const cyclic = meta('a', { dependsOn: ['b'], implicitDeps: ['host:x'] });
  const probes = new Map([db, api, web, cyclic, meta('b', { dependsOn: ['a'], implicitDeps: ['host:y'] })].map((p) => [p.id, p]));
  t.same([...dependenciesOf('web', probes).probes].sort(), ['api', 'db-ready']);
  const a = dependenciesOf('a', probes);
  t.same([...a.probes], ['b']);
  t.same([...a.keys].sort(), ['host:x', 'host:y']);
});

t.test('direct and transitive dependents join as symptoms without an opened event', async (t) => {
  const h = new Harness(config([db, api, web]));
  t.same(types(h.repeat(2, 'db-ready', fail('db-ready'))[1]!), ['opened']);

  h.run('api', fail('api'));
  const joined = h.run('api', fail('api', '502 from upstream'));
  t.same(types(joined), ['symptom'], 'joins at its threshold, never as opened');
  t.match(joined.events[0], {
    incidentId: 1,
    severity: 'S1',
    summary: 'Backend DB unreachable',
    probe: 'api',
    findingKey: 'api',
    message: '502 from upstream',
    detail: 'api failing too: 502 from upstream',
  });
  t.equal(joined.events[0]!.evidence, undefined, 'symptoms carry no evidence to page with');
  const web2 = h.repeat(2, 'web', fail('web'))[1]!;
  t.same(types(web2), ['symptom'], 'a transitive dependent joins the same incident');

  const incident = h.incident(1);
  t.same(incident.symptoms, ['api', 'web']);
  t.same(incident.timeline.map((e) => e.event), ['opened', 'symptom', 'symptom']);
  t.equal(h.state.incidents.size, 1);
  t.match(h.state.subjects.get('web'), { incidentId: 1 });
  t.same(types(h.run('api', fail('api'))), [], 'a symptom failing on changes nothing');
});

t.test('an implicit host dependency groups findings, even within one run', async (t) => {
  const h = new Harness(config([ps]));
  // The host finding comes last in the run but is handled first, so redis does not open its own.
  const [, second] = h.repeat(2, 'ps', fail('ps:redis', 'redis not running', { service: 'redis' }), fail('host:prod-backend', 'ssh timeout'));
  t.same(types(second!), ['opened', 'symptom']);
  t.match(second!.events[0], { findingKey: 'host:prod-backend', summary: 'Host prod-backend unreachable' });
  t.match(second!.events[1], { findingKey: 'ps:redis', incidentId: second!.events[0]!.incidentId });
});

t.test('a symptom that recovers stays with the incident until the root resolves', async (t) => {
  const h = new Harness(config([db, api, web]));
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.repeat(2, 'api', fail('api'));
  const recovered = h.repeat(3, 'api', pass('api'));
  t.same(recovered.flatMap(types), [], 'no events for a recovering symptom');
  t.match(h.state.subjects.get('api'), { ok: true, incidentId: 1 });
  t.same(types(h.run('api', fail('api'))), [], 'failing again is still part of the same incident');
});

t.test('when the root recovers while a symptom still fails, the incident is handed over, not dropped', async (t) => {
  const h = new Harness(config([db, api, web]));
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.repeat(2, 'api', fail('api'));
  h.repeat(2, 'web', fail('web'));
  h.repeat(2, 'web', pass('web'));
  h.at(20 * MINUTE).run('db-ready', pass('db-ready'));
  h.at(20 * MINUTE + 30 * SECOND).run('api', fail('api')); // seen failing after the database came back
  const recovered = h.at(21 * MINUTE).run('db-ready', pass('db-ready'));
  t.same(types(recovered), ['handed_over'], 'announced, and no second incident');
  t.match(recovered.events[0], {
    incidentId: 1,
    findingKey: 'api',
    probe: 'api',
    summary: 'Backend API down',
    previousSummary: 'Backend DB unreachable',
    message: 'Still failing after db-ready recovered',
    detail: 'Handed over from db-ready (passing again) to api: Still failing after db-ready recovered',
  });
  t.match(h.incident(1), { state: 'open', rootKey: 'api', rootProbe: 'api', symptoms: ['web'], formerRoots: ['db-ready'] });
  t.match(h.state.subjects.get('api'), { incidentId: 1 });
  t.match(h.state.subjects.get('db-ready'), { incidentId: null });
  t.match(h.state.subjects.get('web'), { incidentId: 1 }, 'a recovered symptom stays until the incident resolves');
  t.equal(h.state.incidents.size, 1);
  const resolved = h.repeat(2, 'api', pass('api'))[1]!;
  t.same(types(resolved), ['resolved', 'review'], 'the new root resolves it');
  t.match(h.state.subjects.get('web'), { incidentId: null });
});

t.test('a root cause that fails after its symptom takes the symptom\'s incident in: one [INCIDENT], naming it', async (t) => {
  const ready = meta('db-ready', { type: 'pg_ready', summary: 'Backend DB unreachable', service: 'db', intervalMs: 2_000 });
  const connections = meta('connections', { type: 'pg_connections', summary: 'DB connections exhausted', service: 'db', severity: 'S2', dependsOn: ['db-ready'] });
  const h = new Harness(config([ready, connections]));
  h.at(0).run('connections', fail('connections', '100 of 100 connections in use'));
  t.same(types(h.at(30 * SECOND).run('connections', fail('connections', '100 of 100 connections in use'))), ['opened']);
  h.at(34 * SECOND).run('db-ready', fail('db-ready', 'too many clients (53300)'));
  const root = h.at(36 * SECOND).run('db-ready', fail('db-ready', 'connection refused'));
  t.same(types(root), ['opened', 'symptom', 'note', 'resolved']);
  t.match(root.events[0], { incidentId: 2, severity: 'S1', findingKey: 'db-ready', joined: [{ id: 1, summary: 'DB connections exhausted' }] });
  const routes = root.events.flatMap((e) => route(e, { discord: { errors: true, warnings: true, ops: true } }));
  t.same(
    routes.filter((r) => r.channel === 'ops').map((r) => opsLine(r.body as IncidentEvent)),
    ['[INCIDENT] S1 - Backend DB unreachable on production. Investigating. #1 (DB connections exhausted) joined as a symptom.'],
    'one page for the cause, naming the incident it took in',
  );
  t.same(routes.map((r) => r.channel), ['ops', 'errors'], 'the joined incident\'s resolution pages nobody');
  t.match(h.incident(2), { state: 'open', rootKey: 'db-ready', symptoms: ['connections'] });
  t.match(h.state.subjects.get('connections'), { incidentId: 2 });
  const joined = h.incident(1);
  t.match(joined, { state: 'resolved', resolvedAt: h.now });
  t.same(
    joined.timeline.slice(-2).map((e) => [e.event, e.by ?? null, e.detail]),
    [
      ['note', 'vigil', 'Joined #2 (Backend DB unreachable) as a symptom of its root cause: followed there'],
      ['resolved', null, 'Joined #2 (Backend DB unreachable) as a symptom of its root cause: followed there'],
    ],
  );
  t.notOk(joined.timeline.some((e) => e.event === 'review'), 'no review of its own: the root\'s review covers it');
  t.match(eventLogLine(root.events[3]!), { level: 'info', msg: '[RESOLVED] S2 - DB connections exhausted on production. Joined #2 as a symptom of its root cause.' });
});
