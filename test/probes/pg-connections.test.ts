// pg_connections on a real cluster with a low max_connections: warn, then critical, trip as clients pile up; full means 53300 for pg_ready.
import type pg from 'pg';
import t from 'tap';
import { createMetrics } from '../../src/metrics.js';
import { observeRun } from '../../src/probes/index.js';
import { MONITOR_PASSWORD, pgFleet, startPostgres } from '../helpers/pg.js';

// 13 slots, 3 reserved for superusers: 10 usable by ordinary clients.
const server = await startPostgres(t, { maxConnections: 13 });
const admin = await server.connect();
await admin.query("CREATE ROLE app LOGIN PASSWORD 'app-pw'");
const appUrl = server.superuserUrl.replace(/^postgres:\/\/[^@]+@/, 'postgres://app:app-pw@');

const yaml = `
environments: { production: {} }
databases:
  main: { environment: production, url_env: MAIN_URL }
probes:
  - { id: main-conns, type: pg_connections, database: main, warn: 0.5, critical: 0.8, timeout: 3s }
  - { id: main-ready, type: pg_ready, database: main, timeout: 3s }
`;

t.test('connections climb: ok, then warn (S3), then critical (S2), with who holds them', async (t) => {
  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  const metrics = createMetrics('test', { defaults: false });
  const probe = f.config.probes.find((p) => p.id === 'main-conns')!;
  const seen: Array<{ ok: boolean; severity: string | undefined; connections: number }> = [];
  const opened = [];
  let last;
  for (let i = 0; i < 9; i++) {
    last = await f.run('main-conns');
    const finding = last.findings[0]!;
    seen.push({ ok: finding.ok, severity: finding.severity, connections: finding.values!.connections! });
    if (finding.severity === 'S2') break;
    opened.push(await server.connect(appUrl.concat('?application_name=celery-worker')));
  }
  const firstWarn = seen.find((s) => !s.ok);
  const firstCritical = seen.find((s) => s.severity === 'S2');
  t.match(seen[0], { ok: true }, 'a quiet cluster passes');
  t.match(firstWarn, { severity: 'S3', connections: 5 }, 'warn trips at 50% of the 10 usable slots');
  t.match(firstCritical, { severity: 'S2', connections: 8 }, 'critical trips at 80%');
  const finding = last!.findings[0]!;
  t.match(finding, { key: 'main-conns', service: 'db', values: { connections: 8, max_connections: 10, ratio: 0.8 } });
  t.equal(finding.message, '8 of 10 usable connections in use (80%): at or past critical 80%');
  t.match(finding.evidence, '8 client connections of 10 usable (max_connections 13, 3 reserved for superusers)');
  t.match(finding.evidence, /by state: idle 7, active 1/);
  // 6 workers opened here, the test's own superuser session, and vigil's pooled connection.
  t.match(finding.evidence, /\n\s+6 · celery-worker · app\n\s+1 · \(no application_name\) · postgres\n\s+1 · vigil · vigil$/);
  observeRun(probe, last!.findings, metrics);
  t.equal((await metrics.pgConnections.get()).values[0]?.value, 8);
  t.equal((await metrics.pgMaxConnections.get()).values[0]?.value, 10);
  await Promise.all(opened.map((c) => c.end()));
});

t.test('a full server refuses new clients: pg_ready reports too many clients (S1)', async (t) => {
  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  const hogs: pg.Client[] = [];
  t.teardown(() => Promise.all(hogs.map((c) => c.end())));
  // Fill every slot an ordinary client may take, until the server itself says no.
  for (;;) {
    const hog = await server.connect(appUrl).catch((err: { code?: string }) => err);
    if ('code' in hog && hog.code === '53300') break;
    hogs.push(hog as pg.Client);
    if (hogs.length > 20) throw new Error('the server never filled up');
  }
  t.equal(hogs.length, 9, 'ten usable slots: nine for the hogs, one held by the test');
  const run = await f.run('main-ready');
  t.match(run.findings[0], { key: 'main-ready', ok: false, severity: 'S1' });
  t.match(run.findings[0]!.message, /^refusing connections: too many clients \(remaining connection slots are reserved/);
});

t.test("vigil's role at its CONNECTION LIMIT is vigil's problem (S2), not a full server", async (t) => {
  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  // The role's limit lowered for the test, so the server itself still has room.
  await admin.query('ALTER ROLE vigil CONNECTION LIMIT 2');
  const mine = [await server.connect(server.monitorUrl), await server.connect(server.monitorUrl)];
  t.teardown(async () => {
    await Promise.all(mine.map((c) => c.end()));
    await admin.query('ALTER ROLE vigil CONNECTION LIMIT 10');
  });
  const run = await f.run('main-ready');
  t.match(run.findings[0], { ok: false, severity: 'S2' });
  t.match(run.findings[0]!.message, 'vigil\'s role "vigil" is at its CONNECTION LIMIT');
  t.notOk(run.findings[0]!.message.includes(MONITOR_PASSWORD));
});
