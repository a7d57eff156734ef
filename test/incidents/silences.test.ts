// Silences in the engine: a matched incident is recorded, not paged, and pages when the silence ends if still open.
import t from 'tap';
import { silenceCovering, silenceMatches, type Silence } from '../../src/incidents/silences.js';
import { NO_DISCORD, route } from '../../src/notify/route.js';
import { config, fail, Harness, meta, MINUTE, pass, T0, types } from './fixtures.js';

const silence = (over: Partial<Silence> = {}): Silence => ({
  id: 3,
  matchers: { probe: 'api' },
  startsAt: T0,
  endsAt: T0 + 120 * MINUTE,
  reason: 'deploy 2.4',
  by: 'alice',
  expiredBy: null,
  ...over,
});

const api = meta('api', { summary: 'Backend API down', failureThreshold: 1, successThreshold: 1 });
const web = meta('web', { summary: 'Webapp down', service: 'webapp', failureThreshold: 1 });
const staging = meta('staging-api', { environment: 'staging', failureThreshold: 1 });

t.test('matchers: every one given must equal; none given matches nothing', async (t) => {
  const scope = { probe: 'api', service: 'backend', environment: 'production' };
  t.ok(silenceMatches(silence(), scope));
  t.ok(silenceMatches(silence({ matchers: { service: 'backend', environment: 'production' } }), scope));
  t.notOk(silenceMatches(silence({ matchers: { service: 'backend', environment: 'staging' } }), scope));
  t.notOk(silenceMatches(silence({ matchers: { probe: 'web' } }), scope));
  t.notOk(silenceMatches(silence({ matchers: {} }), scope), 'an empty silence would hide everything: it matches nothing');
  const short = silence({ id: 4, endsAt: T0 + 10 * MINUTE, matchers: { environment: 'production' } });
  t.equal(silenceCovering([short, silence()], T0, scope)?.id, 3, 'the one that ends last');
  t.equal(silenceCovering([silence()], T0 - 1, scope), undefined, 'not before it starts');
  t.equal(silenceCovering([silence()], T0 + 120 * MINUTE, scope), undefined, 'the end is exclusive');
});

t.test('a silenced failure is recorded, not paged, and pages when the silence ends', async (t) => {
  const h = new Harness({ ...config([api, web, staging]), silences: [silence()] });
  const r = h.at(5 * MINUTE).run('api', fail('api', 'connection refused'));
  t.same(types(r), ['maintenance']);
  t.match(r.events[0], {
    held: true,
    detail: 'Under silence #3 (deploy 2.4, by alice; probe=api), not paged until it ends: api failing: connection refused',
  });
  t.match(h.incident(1), { state: 'open', maintenance: 'silence #3', respondBy: null });
  t.same(r.events.flatMap((e) => route(e, NO_DISCORD)), [], 'nothing is routed');
  t.same(types(h.at(6 * MINUTE).run('web', fail('web'))), ['opened'], 'another probe is not silenced');
  t.same(h.at(60 * MINUTE).tick().events.filter((e) => e.incidentId === 1), [], 'no reminder while silenced');
  const end = h.at(120 * MINUTE).tick().events.filter((e) => e.incidentId === 1);
  t.same(end.map((e) => e.type), ['opened']);
  t.match(end[0], { held: undefined, respondBy: h.now + 30 * MINUTE, detail: 'Still failing after silence #3 ended: connection refused' });
  t.match(route(end[0]!, NO_DISCORD), [{ channel: 'ops', body: { text: '[INCIDENT] S1 - Backend API down on production. Investigating.' } }]);
});

t.test('expired early: the engine sees the new end and pages at the next tick', async (t) => {
  const h = new Harness({ ...config([api]), silences: [silence()] });
  h.at(5 * MINUTE).run('api', fail('api'));
  t.same(types(h.at(10 * MINUTE).tick()), []);
  h.cfg = { ...h.cfg, silences: [silence({ endsAt: T0 + 11 * MINUTE, expiredBy: 'bob' })] };
  t.same(types(h.at(11 * MINUTE).tick()), ['opened']);
});

t.test('resolved while silenced: never paged; acknowledged: not paged at the end', async (t) => {
  const h = new Harness({ ...config([api]), silences: [silence()] });
  h.at(5 * MINUTE).run('api', fail('api'));
  const resolved = h.at(10 * MINUTE).run('api', pass('api'));
  t.ok(resolved.events.length > 0 && resolved.events.every((e) => e.held === true));
  t.same(types(h.at(120 * MINUTE).tick()), []);

  const acked = new Harness({ ...config([api]), silences: [silence()] });
  acked.at(5 * MINUTE).run('api', fail('api'));
  acked.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  const end = acked.at(120 * MINUTE).tick();
  t.same(types(end), ['maintenance']);
  t.match(end.events[0], { detail: 'Silence #3 over; already acknowledged by ana' });
});

t.test('a silence added while a window holds the incident keeps holding it after the window', async (t) => {
  const weekly = { environment: 'production', service: 'backend', cron: '0 3 * * 1', duration: 30 * MINUTE, reason: 'weekly DB backup' };
  const h = new Harness({ ...config([api]), maintenance: [weekly], silences: [silence()] });
  h.at(5 * MINUTE).run('api', fail('api'));
  t.match(h.incident(1), { maintenance: 'weekly DB backup' });
  const after = h.at(30 * MINUTE).tick();
  t.same(types(after), [], 'the window ended, the silence still holds it');
  t.match(h.incident(1), { maintenance: 'silence #3' });
  t.same(types(h.at(120 * MINUTE).tick()), ['opened']);
});

t.test('scoped by environment and service, like a maintenance window', async (t) => {
  const h = new Harness({ ...config([api, staging]), silences: [silence({ matchers: { environment: 'staging' } })] });
  t.same(types(h.at(MINUTE).run('staging-api', fail('staging-api'))), ['maintenance']);
  t.same(types(h.at(MINUTE).run('api', fail('api'))), ['opened']);
});
