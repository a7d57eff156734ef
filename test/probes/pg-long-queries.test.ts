// pg_long_queries on a real server as the monitoring role: a real pg_sleep, an idle transaction, vigil's own sessions, escalate and gauges.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { classify } from '../../src/incidents/classify.js';
import { createMetrics } from '../../src/metrics.js';
import { observeRun } from '../../src/probes/index.js';
import { MONITOR_PASSWORD, SUPERUSER_PASSWORD, pgFleet, startPostgres } from '../helpers/pg.js';
import { matchExactly } from '../helpers/match.js';

const server = await startPostgres(t);

const yaml = `
environments: { production: {}, staging: { severity_cap: S3 } }
databases:
  main: { environment: production, url_env: MAIN_URL }
probes:
  - id: main-long
    type: pg_long_queries
    database: main
    older_than: 1s
    timeout: 3s
    escalate: { count: 2, severity: S2 }
`;

t.test('nothing running long: a pass with count 0', async (t) => {
  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  const run = await f.run('main-long');
  matchExactly(t, run.findings, [{ key: 'main-long', ok: true, service: 'db', message: /^no query running longer than 1s/, values: { count: 0 } }]);
});

t.test('a real long query and an idle transaction are found, literals redacted, vigil itself ignored', async (t) => {
  const sleeper = await server.connect(server.superuserUrl.concat('?application_name=backend-worker'));
  const sleeperPid: number = (await sleeper.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const sleeping = sleeper.query("SELECT pg_sleep(30), 'card-4111-1111' AS secret, 987654 AS amount").catch((err: Error) => err);
  const idle = await server.connect(server.superuserUrl.concat('?application_name=billing'));
  await idle.query('BEGIN');
  await idle.query("SELECT 'tx-secret-value' AS s, 31337 AS n");
  // vigil's own long session (its role and application_name) must never count.
  const own = await server.connect(server.monitorUrl.concat('?application_name=vigil'));
  const ownSleep = own.query('SELECT pg_sleep(30)').catch((err: Error) => err);
  const admin = await server.connect();
  t.teardown(async () => {
    await admin.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()");
    await Promise.all([sleeping, ownSleep]);
    await idle.query('ROLLBACK').catch(() => undefined);
  });
  await sleep(1_300);

  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  const run = await f.run('main-long');
  const [finding] = run.findings;
  t.equal(run.findings.length, 1);
  t.match(finding, { key: 'main-long', ok: false, service: 'db', values: { count: 2 } });
  t.match(finding!.message, new RegExp(`^2 queries running longer than 1s \\(longest \\ds, pid ${sleeperPid}, 1 idle in transaction\\)$`));
  t.ok(finding!.values!.longest_seconds! >= 1.2, 'longest_seconds counts the real sleep');
  const evidence = finding!.evidence!;
  t.match(evidence, new RegExp(`pid ${sleeperPid} · active \\ds · user postgres · app backend-worker · waiting Timeout:PgSleep`));
  t.match(evidence, "SELECT pg_sleep(?), ? AS secret, ? AS amount");
  t.match(evidence, /idle in transaction for \ds \(transaction open \ds\) · user postgres · app billing/);
  t.match(evidence, 'last query: SELECT ? AS s, ? AS n');
  for (const leaked of ['card-4111', '987654', 'tx-secret', '31337', '30)', MONITOR_PASSWORD, SUPERUSER_PASSWORD]) {
    t.notOk(JSON.stringify(run).includes(leaked), `"${leaked}" never leaves the database`);
  }
  t.notMatch(evidence, /app vigil/, "vigil's own session is not reported");

  const probe = f.config.probes[0]!;
  t.equal(classify(probe, finding!, f.config.environments.production, 0), 'S2', 'escalate {count: 2} raises S3 to S2');
  t.equal(classify(probe, finding!, f.config.environments.staging, 0), 'S3', 'and staging caps it at S3');

  const metrics = createMetrics('test', { defaults: false });
  observeRun(probe, run.findings, metrics);
  t.equal((await metrics.pgLongQueries.get()).values[0]?.value, 2);
  t.match((await metrics.pgLongQueries.get()).values[0]?.labels, { database: 'main' });
  t.ok(((await metrics.pgLongestQuery.get()).values[0]?.value ?? 0) >= 1.2);
});

t.test('the server gone: a finding, and the gauges are cleared rather than left stale', async (t) => {
  const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
  const metrics = createMetrics('test', { defaults: false });
  const probe = f.config.probes[0]!;
  observeRun(probe, (await f.run('main-long')).findings, metrics);
  t.equal((await metrics.pgLongQueries.get()).values.length, 1);
  t.teardown(() => server.start());
  await server.stop();
  const run = await f.run('main-long');
  matchExactly(t, run.findings, [{ key: 'main-long', ok: false }]);
  t.match(run.findings[0]!.message, /connection refused|closed the connection|ended the connection/);
  observeRun(probe, run.findings, metrics);
  t.equal((await metrics.pgLongQueries.get()).values.length, 0);
});
