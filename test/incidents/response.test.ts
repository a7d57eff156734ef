// The response clock beyond S1/S2: S3 reminders on business days, escalation restarting the clock, the unacknowledged gauge's numbers.
import t from 'tap';
import { unacknowledged } from '../../src/incidents/engine.js';
import { config, fail, Harness, meta, MINUTE, types } from './fixtures.js';

const HOUR = 60 * MINUTE;
const exportsProbe = meta('export', { summary: 'Exports failing', severity: 'S3', failureThreshold: 1, service: 'webapp' });

t.test('S3: reminded at the next business day 09:00 UTC, then each business day, skipping the weekend', async (t) => {
  const h = new Harness(config([exportsProbe]));
  // Thursday 2025-01-09 15:00 UTC.
  const thursday = Date.UTC(2025, 0, 9, 15) - h.now;
  t.match(h.at(thursday).run('export', fail('export')).events, [{ type: 'opened', respondBy: Date.UTC(2025, 0, 10, 9) }]);
  const reminders: string[] = [];
  for (let at = thursday; at <= thursday + 5 * 24 * HOUR; at += 30 * MINUTE) {
    for (const e of h.at(at).tick().events) reminders.push(`${new Date(e.at).toISOString()} ${e.detail}`);
  }
  t.same(reminders, [
    '2025-01-10T09:00:00.000Z Unacknowledged for 18h',
    '2025-01-13T09:00:00.000Z Unacknowledged for 3d 18h',
    '2025-01-14T09:00:00.000Z Unacknowledged for 4d 18h',
  ]);
  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  t.same(types(h.at(thursday + 7 * 24 * HOUR).tick()), [], 'acknowledged: no more reminders');
});

t.test('an escalation restarts the clock from the escalation, and S4 never reminds', async (t) => {
  const q = meta('db-long', { severity: 'S3', failureThreshold: 1, escalate: [{ count: 5, severity: 'S1' }] });
  const low = meta('cosmetic', { severity: 'S4', failureThreshold: 1 });
  const h = new Harness(config([q, low]));
  h.run('db-long', fail('db-long', '2 long queries', { values: { count: 2 } }));
  h.run('cosmetic', fail('cosmetic'));
  h.at(2 * HOUR).run('db-long', fail('db-long', '9 long queries', { values: { count: 9 } }));
  t.equal(h.incident(1).respondBy, h.now + 30 * MINUTE);
  t.same(types(h.at(2 * HOUR + 29 * MINUTE).tick()), []);
  t.same(types(h.at(2 * HOUR + 30 * MINUTE).tick()), ['reminder']);
  t.equal(h.incident(2).respondBy, null);
  t.same(h.at(30 * 24 * HOUR).tick().events.filter((e) => e.incidentId === 2), []);
});

t.test('unacknowledged(): the longest wait per environment and severity, only for paged, open incidents', async (t) => {
  const a = meta('a', { failureThreshold: 1 });
  const b = meta('b', { failureThreshold: 1 });
  const c = meta('c', { failureThreshold: 1, environment: 'staging' });
  const h = new Harness(config([a, b, c]));
  h.run('a', fail('a'));
  h.at(10 * MINUTE).run('b', fail('b'));
  h.at(20 * MINUTE).run('c', fail('c'));
  t.same(
    unacknowledged(h.state.incidents.values(), h.now + 5 * MINUTE).sort((x, y) => x.environment.localeCompare(y.environment)),
    [
      { environment: 'production', severity: 'S1', seconds: 25 * 60 },
      { environment: 'staging', severity: 'S3', seconds: 5 * 60 },
    ],
  );
  h.cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  h.cmd({ type: 'ack', incidentId: 3, by: 'ana' });
  t.same(unacknowledged(h.state.incidents.values(), h.now), [{ environment: 'production', severity: 'S1', seconds: 10 * 60 }]);
});
