// What the engine gives Better Stack on-call: the first reminder marks the respond-by time passing,
// and an ack or resolve made elsewhere carries where (`via`) through to its event and timeline.
import t from 'tap';
import type { IncidentEvent } from '../../src/types.js';
import { fail, Harness, meta, MINUTE, config } from './fixtures.js';

const critical = meta('api', { summary: 'Backend API down', severity: 'S1', failureThreshold: 1, successThreshold: 1 });
const major = meta('queue', { summary: 'Generation queue stuck', severity: 'S2', failureThreshold: 1 });

t.test('only the reminder at the respond-by time is marked as missed, S1 at 30 min and S2 at 2 h', async (t) => {
  const h = new Harness(config([critical, major]));
  h.run('api', fail('api'));
  h.run('queue', fail('queue'));
  const reminders: IncidentEvent[] = [];
  for (let m = 1; m <= 241; m += 1) reminders.push(...h.at(m * MINUTE).tick().events.filter((e) => e.type === 'reminder'));
  const of = (severity: string) => reminders.filter((e) => e.severity === severity).map((e) => [(e.at - e.openedAt) / MINUTE, e.respondByMissed === true]);
  t.same(of('S1'), [[30, true], [60, false], [90, false], [120, false], [150, false], [180, false], [210, false], [240, false]]);
  t.same(of('S2'), [[120, true], [240, false]]);
});

t.test('an ack or resolve via Better Stack says so on the event and the timeline; by is the person there', async (t) => {
  const h = new Harness(config([critical]));
  h.run('api', fail('api'));
  const ack = h.cmd({ type: 'ack', incidentId: 1, by: 'alice@sartiq.com', via: 'Better Stack' });
  t.match(ack, { ok: true });
  t.match(ack.ok && ack.events, [{ type: 'acknowledged', by: 'alice@sartiq.com', via: 'Better Stack' }]);
  t.match(h.incident(1).timeline.at(-1), { event: 'acknowledged', by: 'alice@sartiq.com', detail: /^Acknowledged by alice@sartiq\.com \(via Better Stack\) after / });
  const resolved = h.cmd({ type: 'resolve', incidentId: 1, by: 'alice@sartiq.com', via: 'Better Stack' });
  t.match(resolved.ok && resolved.events, [{ type: 'resolved', via: 'Better Stack', by: 'alice@sartiq.com' }, { type: 'review' }]);
  const plain = new Harness(config([critical]));
  plain.run('api', fail('api'));
  const own = plain.cmd({ type: 'ack', incidentId: 1, by: 'bob' });
  t.equal(own.ok && own.events[0]!.via, undefined, 'an ack through vigil has no via');
});
