// The pure parts behind /status: uptime per UTC day, maintenance notices, time and percent formatting, finding the views.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTasks } from 'node-cron';
import t from 'tap';
import { formatPercent, relative, utcMinute } from '../../src/server/views/format.js';
import { maintenanceNotices } from '../../src/server/views/maintenance.js';
import { findViewsDir, ViewsNotFoundError } from '../../src/server/views/render.js';
import { dailyUptime, uptimeSince } from '../../src/server/views/uptime.js';
import { tmpDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2024, 4, 1, 3, 12, 0); // a Wednesday

t.test('dailyUptime sums hourly rows per service and UTC day, and ignores what it was not asked for', async (t) => {
  const first = uptimeSince(NOW);
  t.equal(first, Date.UTC(2024, 3, 25), 'seven days ending today, from midnight UTC');
  const rows = [
    { probe: 'a', environment: 'production', service: 'backend', hour: first, ok: 10, failed: 0 },
    { probe: 'b', environment: 'production', service: 'backend', hour: first + 23 * HOUR, ok: 5, failed: 5 },
    { probe: 'a', environment: 'production', service: 'backend', hour: first + DAY, ok: 999, failed: 1 },
    { probe: 'a', environment: 'production', service: 'backend', hour: first - HOUR, ok: 0, failed: 50 },
    { probe: 'x', environment: 'production', service: 'retired', hour: first, ok: 0, failed: 9 },
    { probe: 'c', environment: 'staging', service: 'backend', hour: first + 6 * DAY, ok: 0, failed: 3 },
  ];
  const view = dailyUptime(rows, [{ environment: 'production', service: 'backend' }, { environment: 'staging', service: 'backend' }], NOW);
  t.equal(view.days.length, 7);
  t.same(view.days.map((d) => d.iso), ['2024-04-25', '2024-04-26', '2024-04-27', '2024-04-28', '2024-04-29', '2024-04-30', '2024-05-01']);
  const [prod, staging] = view.rows;
  t.same(prod?.cells.map((c) => [c.ok, c.failed, c.text, c.tone]).slice(0, 3), [
    [15, 5, '75.0%', 'bad'],
    [999, 1, '99.90%', 'good'],
    [0, 0, '–', 'none'],
  ], 'both probes of a service count for it; the hour before the period does not');
  t.same([prod?.total.ok, prod?.total.failed], [1014, 6]);
  t.same(staging?.cells.map((c) => c.tone), ['none', 'none', 'none', 'none', 'none', 'none', 'bad']);
  t.equal(view.rows.length, 2, 'a service no longer configured is not shown');
});

t.test('formatPercent never rounds a failure up to 100 %', async (t) => {
  t.equal(formatPercent(1), '100%');
  t.equal(formatPercent(0.99999), '99.99%');
  t.equal(formatPercent(0.9995), '99.95%');
  t.equal(formatPercent(0.98765), '98.7%');
  t.equal(formatPercent(0), '0.0%');
});

t.test('times read in UTC with a two-unit relative age', async (t) => {
  t.equal(utcMinute(NOW), '2024-05-01 03:12 UTC');
  t.equal(relative(NOW - 30_000, NOW), 'just now');
  t.equal(relative(NOW - 5 * 60_000 - 10_000, NOW), '5m 10s ago');
  t.equal(relative(NOW + 2 * HOUR + 5 * 60_000, NOW), 'in 2h 5m');
  t.equal(relative(NOW + HOUR + 59 * 60_000 + 20_000, NOW), 'in 1h 59m', 'not "in 1h" when nearly two are left');
  t.equal(relative(NOW - 3 * DAY, NOW), '3d ago');
});

t.test('maintenanceNotices: cron windows active inside their duration, next start otherwise; one-off windows by date', async (t) => {
  const tasksBefore = getTasks().size;
  const sunday0300 = Date.UTC(2024, 4, 5, 3, 0);
  const weekly = { environment: 'production', service: 'backend', cron: '0 3 * * 0', duration: 30 * 60_000 };
  const [before] = maintenanceNotices([weekly], NOW);
  t.equal(before?.status, 'scheduled');
  t.equal(before?.next?.iso, new Date(sunday0300).toISOString());
  t.equal(before?.scope, 'production / backend');
  t.equal(before?.when, 'cron "0 3 * * 0" (UTC) for 30m');

  const [inside] = maintenanceNotices([weekly], sunday0300 + 29 * 60_000);
  t.equal(inside?.status, 'active', '29 minutes into a 30-minute window');
  t.equal(inside?.until?.iso, new Date(sunday0300 + 30 * 60_000).toISOString());
  const [after] = maintenanceNotices([weekly], sunday0300 + 30 * 60_000);
  t.equal(after?.status, 'scheduled', 'the window has ended at exactly its duration');
  t.equal(after?.next?.iso, new Date(sunday0300 + 7 * DAY).toISOString(), 'next week');

  const [nightly] = maintenanceNotices([{ cron: '*/15 2-4 * * *', duration: 20 * 60_000, reason: 'backups' }], NOW);
  t.equal(nightly?.status, 'active', '03:00 fired, 03:12 is within 20 minutes of it');
  t.equal(nightly?.until?.iso, '2024-05-01T03:20:00.000Z', 'the 03:00 start, not an earlier one');
  t.equal(nightly?.reason, 'backups');
  t.equal(nightly?.scope, 'every environment and service');

  const [monthly] = maintenanceNotices([{ service: 'db', cron: '0 1 15 * *', duration: 60 * 60_000 }], NOW);
  t.equal(monthly?.status, 'scheduled');
  t.equal(monthly?.next, null, 'further than the look-ahead: no next start claimed');
  t.equal(monthly?.scope, 'db in every environment');

  const oneOff = (start: string, end: string) => maintenanceNotices([{ environment: 'staging', start, end }], NOW)[0];
  t.equal(oneOff('2024-05-02T00:00:00Z', '2024-05-02T01:00:00Z')?.status, 'upcoming');
  t.equal(oneOff('2024-05-01T03:00:00+00:00', '2024-05-01T05:00:00+02:00')?.status, 'past', 'offsets are honoured: 05:00+02 is 03:00Z');
  t.equal(oneOff('2024-05-01T02:00:00Z', '2024-05-01T04:00:00Z')?.status, 'active');
  t.equal(getTasks().size, tasksBefore, 'no node-cron task is left behind');
});

t.test('findViewsDir: the source directory, else src/server/views under the vigil package root', async (t) => {
  const here = findViewsDir();
  t.match(here, /src[\\/]server[\\/]views$/);
  const root = tmpDir(t, 'vigil-views-');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'vigil' }));
  const compiled = join(root, 'dist', 'src', 'server', 'views');
  mkdirSync(compiled, { recursive: true });
  t.throws(() => findViewsDir(compiled), ViewsNotFoundError, 'no templates anywhere');
  t.throws(() => findViewsDir(compiled), { code: 'VIGIL_ERR_VIEWS' });
  mkdirSync(join(root, 'src', 'server', 'views'), { recursive: true });
  writeFileSync(join(root, 'src', 'server', 'views', 'layout.eta'), '');
  t.equal(findViewsDir(compiled), join(root, 'src', 'server', 'views'), 'found from the compiled module');
});

t.test('each probe says when it was last checked, from the daemon\'s own record', async (t) => {
  const { loadConfigText } = await import('../../src/config/load.js');
  const { initialState } = await import('../../src/incidents/engine.js');
  const { buildStatus } = await import('../../src/server/routes/status.js');
  const { statusPageModel } = await import('../../src/server/views/model.js');
  const config = loadConfigText(
    'environments: { production: {} }\nprobes:\n  - { id: web, type: http, environment: production, service: web, url: "http://127.0.0.1:1/" }\n  - { id: api, type: http, environment: production, service: web, url: "http://127.0.0.1:2/" }\n',
    'c.yaml',
    {},
  );
  const now = Date.parse('2026-12-01T03:00:00Z');
  const lastChecked = (probe: string) => (probe === 'web' ? now - 90_000 : null);
  const probes = buildStatus(config, initialState(), now, lastChecked).environments[0]!.services[0]!.probes;
  t.same(
    probes.map((p) => [p.id, p.last_checked]),
    [
      ['web', '2026-12-01T02:58:30.000Z'],
      ['api', null],
    ],
  );
  const model = statusPageModel({ config, state: initialState(), uptimeRows: [], resolved: [], undelivered: [], lastChecked, now });
  t.equal(model.grid[0]!.cells[0]!.probes[0]!.lastChecked?.relative, '1m 30s ago');
});

t.test('an incident open for less than a second reads "just opened", not "441ms"', async (t) => {
  const { incidentView } = await import('../../src/server/views/model.js');
  const now = Date.parse('2026-12-01T03:00:00Z');
  const base = { id: 1, state: 'open' as const, severity: 'S2' as const, environment: 'production', service: 'web', summary: 'Web down', message: 'refused', rootProbe: 'web', rootKey: 'web', symptoms: [], evidence: [], acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, respondBy: null, lastReminderAt: null };
  const fresh = incidentView({ ...base, openedAt: now - 441, timeline: [{ at: now - 441, event: 'opened', detail: 'refused' }] } as never, now);
  t.equal(fresh.duration, 'just opened');
  const older = incidentView({ ...base, openedAt: now - 90_000, timeline: [{ at: now - 90_000, event: 'opened', detail: 'refused' }] } as never, now);
  t.equal(older.duration, '1m 30s');
});
