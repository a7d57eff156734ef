// `vigil check` (the real CLI) against a real PostgreSQL: the database section of the triage report, redacted, exit code by the worst finding.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { MONITOR_PASSWORD, SUPERUSER_PASSWORD, startPostgres } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess } from '../helpers/vigil-process.js';

t.test('vigil check answers "is the DB up, how full is it, what is stuck"', async (t) => {
  const server = await startPostgres(t);
  const dir = tmpDir(t);
  const sleeper = await server.connect(`${server.superuserUrl}?application_name=report-builder`);
  const sleeping = sleeper.query("SELECT pg_sleep(30) FROM (SELECT 'acct-77-secret' AS a) s").catch((err: Error) => err);
  t.teardown(async () => {
    const admin = await server.connect();
    await admin.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'");
    await sleeping;
  });
  await sleep(1_200);
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, `
environments: { production: {} }
databases:
  backend-db: { environment: production, url_env: BACKEND_DB_URL }
probes:
  - { id: backend-db-ready, type: pg_ready, database: backend-db }
  - { id: backend-db-connections, type: pg_connections, database: backend-db }
  - { id: backend-db-long, type: pg_long_queries, database: backend-db, older_than: 1s }
  - { id: backend-db-sessions, type: pg_query, database: backend-db, sql: "SELECT count(*) FROM pg_stat_activity", warn: 1000 }
`);
  const vigil = new VigilProcess(['check', '--config', file], { BACKEND_DB_URL: server.monitorUrl, VIGIL_LOG_LEVEL: 'silent' });
  t.teardown(() => vigil.kill('SIGKILL'));
  const exit = await Promise.race([vigil.exited, sleep(30_000, undefined, { ref: false }).then(() => ({ code: -1, signal: null }))]);
  const out = vigil.stdout;
  t.equal(exit.code, 1, `worst finding is S3: exit 1\n${out}\n${vigil.stderr}`);
  t.match(out, '4 checks: 3 passed, 1 failed');
  t.match(out, /\nproduction\n {2}db\n/, 'one database section under the environment');
  t.match(out, new RegExp(`ok backend-db-ready {2}accepting connections on 127\\.0\\.0\\.1:${server.port}/postgres`));
  t.match(out, /ok backend-db-connections {2}\d+ of 37 usable connections in use/);
  t.match(out, /ok backend-db-sessions {2}count = \d+ \(warn ≥ 1000\)/);
  t.match(out, /S3 backend-db-long {2}1 query running longer than 1s \(longest \ds, pid \d+\)/);
  t.match(out, /pid \d+ · active \ds · user postgres · app report-builder · waiting Timeout:PgSleep/);
  t.match(out, 'SELECT pg_sleep(?) FROM (SELECT ? AS a) s');
  t.match(out, /Worst: S3 backend-db-long on production\/db/);
  for (const secret of ['acct-77', MONITOR_PASSWORD, encodeURIComponent(MONITOR_PASSWORD), SUPERUSER_PASSWORD]) {
    t.notOk(out.includes(secret) || vigil.stderr.includes(secret), `"${secret}" is not in the report`);
  }
});
