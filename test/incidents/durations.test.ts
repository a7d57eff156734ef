// Every duration vigil shows comes from one reading of the timeline: after a reopen, the log, #ops, Discord, API, `vigil incidents`, review and /status agree.
import t from 'tap';
import { formatIncidents } from '../../src/commands/incidents.js';
import { failingPeriods, outage } from '../../src/incidents/durations.js';
import { renderReview } from '../../src/incidents/review.js';
import { buildDiscordPayload } from '../../src/notify/discord-payload.js';
import { eventLogLine, opsLine } from '../../src/notify/messages.js';
import { incidentJson } from '../../src/server/serialize.js';
import { incidentView } from '../../src/server/views/model.js';
import type { IncidentEvent } from '../../src/types.js';
import { harness } from '../server/harness.js';
import { config, fail, Harness, meta, MINUTE, pass, SECOND, T0 } from './fixtures.js';

const db = meta('db-ready', { summary: 'Backend DB unreachable', service: 'db' });

/**
 * Opens at 30 s, resolves at 1m 30s (1 min down), reopens at 5m 30s, resolves at 6m 32s (1m 2s down):
 * 2m 2s of downtime over 2 failing periods, 6m 2s from the first opening to the last resolution.
 */
function flapping(): { h: Harness; resolved: IncidentEvent } {
  const h = new Harness(config([db]));
  h.at(0).run('db-ready', fail('db-ready'));
  h.at(30 * SECOND).run('db-ready', fail('db-ready'));
  h.at(45 * SECOND).cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  h.at(60 * SECOND).run('db-ready', pass('db-ready'));
  h.at(90 * SECOND).run('db-ready', pass('db-ready'));
  h.at(5 * MINUTE).run('db-ready', fail('db-ready'));
  h.at(5 * MINUTE + 30 * SECOND).run('db-ready', fail('db-ready'));
  h.at(6 * MINUTE).cmd({ type: 'ack', incidentId: 1, by: 'bo' });
  h.at(6 * MINUTE + 2 * SECOND).run('db-ready', pass('db-ready'));
  const last = h.at(6 * MINUTE + 32 * SECOND).run('db-ready', pass('db-ready'));
  const resolved = last.events.find((e) => e.type === 'resolved')!;
  return { h, resolved };
}

t.test('failing periods: from each (re)opening to its resolution; the gap between is not downtime', async (t) => {
  const { h } = flapping();
  const incident = h.incident(1);
  t.same(
    failingPeriods(incident).map((p) => ({ start: p.start - T0, end: p.end === null ? null : p.end - T0, acks: p.acks.map((a) => a.by) })),
    [
      { start: 30 * SECOND, end: 90 * SECOND, acks: ['ana'] },
      { start: 5 * MINUTE + 30 * SECOND, end: 6 * MINUTE + 32 * SECOND, acks: ['bo'] },
    ],
  );
  t.same(outage(incident, T0 + 99 * MINUTE), { currentMs: 62 * SECOND, since: T0 + 5 * MINUTE + 30 * SECOND, totalMs: 122 * SECOND, periods: 2 }, 'now is not read once resolved');
  const open = { ...incident, resolvedAt: null, timeline: incident.timeline.filter((e) => e.at < T0 + 6 * MINUTE) };
  t.same(outage(open, T0 + 6 * MINUTE), { currentMs: 30 * SECOND, since: T0 + 5 * MINUTE + 30 * SECOND, totalMs: 90 * SECOND, periods: 2 }, 'an open period lasts until now');
});

t.test('after a reopen, log, #ops, Discord, API, `vigil incidents`, review and /status say the same durations', async (t) => {
  const { h, resolved } = flapping();
  const incident = h.incident(1);
  const later = T0 + 3 * 60 * MINUTE;

  // The log line and #ops: "Resolved after" counts from the last reopening.
  t.equal(resolved.durationMs, 62 * SECOND);
  t.equal(opsLine(resolved), '[RESOLVED] S1 - Backend DB unreachable on production. Resolved after 1m 2s.');
  const log = eventLogLine(resolved);
  t.equal(log.msg, opsLine(resolved));
  t.equal(resolved.detail, 'Resolved after 1m 2s: db-ready passing', 'the timeline and the log line\'s detail');
  t.match(buildDiscordPayload(resolved, 'errors', { publicUrl: null })?.embeds?.[0]?.description, /^Resolved after 1m 2s\./);

  // The API: the same last period, and the total downtime beside it.
  t.match(incidentJson(incident, later), { duration_seconds: 62, downtime_seconds: 122 });

  // `vigil incidents`, the review and /status, from the incident as the store gives it back.
  const s = harness({ now: later });
  t.teardown(() => s.close());
  s.seed(incident);
  const stored = s.store.getIncident(1)!;
  t.match(formatIncidents([stored], later), /\b1m 2s \(2m 2s over 2 failing periods\)\s+Backend DB unreachable\n$/);
  const api = (await s.app.inject('/api/incidents/1')).json();
  t.match(api, { duration_seconds: 62, downtime_seconds: 122 });
  const review = (await s.app.inject('/api/incidents/1/review')).body;
  t.equal(review, renderReview({ incident: stored, impactUsers: null, now: later }));
  t.match(review, /- \*\*Resolved:\*\* 2025-01-06 03:06:32Z \(after 1m 2s, counted from the last reopening\)\n/);
  t.match(review, /- \*\*Total downtime:\*\* 2m 2s over 2 failing periods\n/);
  t.match(review, /- \*\*Duration:\*\* 2m 2s over 2 failing periods\n/);
  t.equal(incidentView(stored, later).duration, '1m 2s (2m 2s over 2 failing periods)');
  const page = (await s.app.inject('/status/incidents/1')).body;
  t.match(page, /after 1m 2s \(2m 2s over 2 failing periods\)/);
});

t.test('an ack is kept across a reopen; the reopening needs its own, and the review shows both', async (t) => {
  const h = new Harness(config([db]));
  h.repeat(2, 'db-ready', fail('db-ready'));
  h.at(45 * SECOND).cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  h.at(60 * SECOND).run('db-ready', pass('db-ready'));
  h.at(90 * SECOND).run('db-ready', pass('db-ready'));
  h.at(5 * MINUTE).run('db-ready', fail('db-ready'));
  h.at(5 * MINUTE + 30 * SECOND).run('db-ready', fail('db-ready'));
  t.match(h.incident(1), { state: 'open', acknowledgedAt: null, acknowledgedBy: null, respondBy: T0 + 35 * MINUTE + 30 * SECOND });
  t.match(h.incident(1).timeline.filter((e) => e.event === 'acknowledged'), [{ by: 'ana', at: T0 + 45 * SECOND }], 'the first ack stays on the timeline');
  t.same(
    h.at(35 * MINUTE + 30 * SECOND).tick().events.map((e) => [e.type, e.detail]),
    [['reminder', 'Unacknowledged for 30m']],
    'the response clock runs again from the reopening',
  );
  let review = renderReview({ incident: h.incident(1), impactUsers: null, now: h.now });
  t.match(review, '- **Acknowledged:** 2025-01-06 03:00:45Z by ana (after the opening); never (after the reopening at 2025-01-06 03:05:30Z)\n');
  t.match(review, '- **Time to acknowledge:** 15s (after the opening); not acknowledged (after the reopening at 2025-01-06 03:05:30Z)\n');
  t.match(review, '- [ ] Find out why nobody acknowledged 1 of 2 pages');

  t.equal(h.at(36 * MINUTE).cmd({ type: 'ack', incidentId: 1, by: 'bo' }).ok, true, 'the reopening takes a new ack');
  review = renderReview({ incident: h.incident(1), impactUsers: null, now: h.now });
  t.match(review, '- **Acknowledged:** 2025-01-06 03:00:45Z by ana (after the opening); 2025-01-06 03:36:00Z by bo (after the reopening at 2025-01-06 03:05:30Z)\n');
  t.match(review, '- **Time to acknowledge:** 15s (after the opening); 30m 30s (after the reopening at 2025-01-06 03:05:30Z)\n');
  t.notMatch(review, 'Find out why nobody acknowledged');
});
