// Severity classification, the response clock and the engine's wording helpers.
import t from 'tap';
import { BUSINESS_DAY, classify, escalateByTime, nextBusinessDayStart, respondByFor, responsePeriodMs } from '../../src/incidents/classify.js';
import { formatDuration, summaryFor } from '../../src/incidents/wording.js';
import { fail, meta, MINUTE, T0 } from './fixtures.js';

const prod = { severityCap: null };
const staging = { severityCap: 'S3' as const };

t.test('base severity is the finding severity, else the probe severity', async (t) => {
  const probe = meta('web', { severity: 'S1' });
  t.equal(classify(probe, fail('web'), prod, 0), 'S1');
  t.equal(classify(probe, fail('web:latency', 'slow', { severity: 'S4' }), prod, 0), 'S4');
  t.equal(classify(probe, fail('web'), undefined, 0), 'S1', 'an environment missing from the config caps nothing');
});

t.test('a count rule raises the severity once values.count reaches it', async (t) => {
  const probe = meta('db-long', { severity: 'S3', escalate: [{ count: 5, severity: 'S2' }] });
  t.equal(classify(probe, fail('db-long', 'q', { values: { count: 4 } }), prod, 0), 'S3');
  t.equal(classify(probe, fail('db-long', 'q', { values: { count: 5 } }), prod, 0), 'S2');
  t.equal(classify(probe, fail('db-long', 'q'), prod, 0), 'S3', 'no count value, no count escalation');
});

t.test('an after rule raises the severity once the incident has been open that long', async (t) => {
  const probe = meta('export', { severity: 'S3', escalate: [{ after: 30 * MINUTE, severity: 'S1' }] });
  t.equal(classify(probe, fail('export'), prod, 29 * MINUTE), 'S3');
  t.equal(classify(probe, fail('export'), prod, 30 * MINUTE), 'S1');
  t.equal(escalateByTime(probe, 'S3', prod, 30 * MINUTE), 'S1');
  t.equal(escalateByTime(probe, 'S2', prod, 10 * MINUTE), 'S2', 'time alone never lowers a severity');
});

t.test('escalate rules only raise: a rule below the base severity changes nothing', async (t) => {
  const probe = meta('api', { severity: 'S1', escalate: [{ count: 1, severity: 'S3' }] });
  t.equal(classify(probe, fail('api', 'x', { values: { count: 9 } }), prod, 0), 'S1');
});

t.test('the environment cap applies after escalation', async (t) => {
  const probe = meta('api', { environment: 'staging', severity: 'S2', escalate: [{ count: 1, severity: 'S1' }] });
  t.equal(classify(probe, fail('api', 'x', { values: { count: 3 } }), staging, 0), 'S3');
  t.equal(classify(probe, fail('api', 'x', { severity: 'S4' }), staging, 0), 'S4', 'a cap never raises');
  t.equal(escalateByTime(meta('x', { escalate: [{ after: 1, severity: 'S1' }] }), 'S3', staging, 5), 'S3');
});

t.test('the response clock: S1 30 min, S2 2 h, S3 the next business day, none for S4', async (t) => {
  t.equal(respondByFor('S1', T0), T0 + 30 * MINUTE);
  t.equal(respondByFor('S2', T0), T0 + 120 * MINUTE);
  t.equal(respondByFor('S4', T0), null);
  t.equal(responsePeriodMs('S3'), null, 'S3 has a calendar deadline, not a period');
  t.same(BUSINESS_DAY, { startHourUtc: 9, weekdays: [1, 2, 3, 4, 5] });
  // [from, due], UTC; 2025-01-06 is a Monday.
  const cases: Array<[number, number, string]> = [
    [Date.UTC(2025, 0, 6, 3), Date.UTC(2025, 0, 7, 9), 'Monday night: Tuesday morning, not the same morning'],
    [Date.UTC(2025, 0, 6, 8, 59), Date.UTC(2025, 0, 7, 9), 'a minute before the day starts still waits for the next day'],
    [Date.UTC(2025, 0, 8, 17), Date.UTC(2025, 0, 9, 9), 'Wednesday afternoon: Thursday'],
    [Date.UTC(2025, 0, 10, 12), Date.UTC(2025, 0, 13, 9), 'Friday: Monday'],
    [Date.UTC(2025, 0, 11, 23, 59), Date.UTC(2025, 0, 13, 9), 'Saturday: Monday'],
    [Date.UTC(2025, 0, 12, 0, 0), Date.UTC(2025, 0, 13, 9), 'Sunday midnight: Monday'],
    [Date.UTC(2024, 11, 31, 22), Date.UTC(2025, 0, 1, 9), 'across the year'],
  ];
  for (const [from, due, why] of cases) {
    t.equal(respondByFor('S3', from), due, why);
    t.equal(nextBusinessDayStart(from), due, why);
  }
});

t.test('durations read like the runbook messages', async (t) => {
  t.equal(formatDuration(0), '0ms');
  t.equal(formatDuration(45_000), '45s');
  t.equal(formatDuration(750_000), '12m 30s');
  t.equal(formatDuration(30 * MINUTE), '30m');
  t.equal(formatDuration(125 * MINUTE + 7_000), '2h 5m');
  t.equal(formatDuration(3 * 60 * MINUTE + 20_000), '3h 20s', 'a zero unit is skipped');
  t.equal(formatDuration(27 * 60 * MINUTE), '1d 3h');
});

t.test('summaries say what a secondary finding is about', async (t) => {
  const web = meta('web', { summary: 'Webapp down' });
  t.equal(summaryFor(web, { key: 'web' }), 'Webapp down');
  t.equal(summaryFor(web, { key: 'web:latency' }), 'Webapp down (latency)');
  const ps = meta('prod-ps', { summary: 'Containers unhealthy' });
  t.equal(summaryFor(ps, { key: 'prod-ps:redis', service: 'redis' }), 'Containers unhealthy (redis)');
  t.equal(summaryFor(ps, { key: 'host:prod-backend' }), 'Host prod-backend unreachable');
  const redis = meta('prod-redis', { summary: 'Backend Redis unreachable', summaries: { 'prod-redis:queue:celery': 'Generation pipeline stuck' } });
  t.equal(summaryFor(redis, { key: 'prod-redis:queue:celery' }), 'Generation pipeline stuck', 'a finding the config names keeps its own words');
  t.equal(summaryFor(redis, { key: 'prod-redis' }), 'Backend Redis unreachable');
  t.equal(summaryFor(redis, { key: 'prod-redis:queue:other' }), 'Backend Redis unreachable (queue:other)');
});
