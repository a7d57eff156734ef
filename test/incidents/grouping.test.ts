// Grouping: dependent failures join the open incident of what they depend on as symptoms and never open their own.
import t from 'tap';
import { dependenciesOf } from '../../src/incidents/grouping.js';
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
