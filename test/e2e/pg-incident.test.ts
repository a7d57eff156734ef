// The daemon watching a real PostgreSQL: stopped → incidents S1 on production and S3 on staging (cap); started → resolved.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { MONITOR_PASSWORD, startPostgres } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

// Three 60 s waits and a PostgreSQL start fit in the file's bound.
t.setTimeout(240_000);

// A refused connection fails at once; the timeout only has to let a healthy check through on a busy
// machine, so that nothing but the outage below fails. The waits are bounds that catch a hang.
t.test('a database outage opens an incident per environment at its severity and resolves when it is back', async (t) => {
  const server = await startPostgres(t);
  const dir = tmpDir(t);
  const yaml = `
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 2s, timeout: 2s, failure_threshold: 2, success_threshold: 1 }
environments:
  production: {}
  staging: { severity_cap: S3 }
databases:
  prod-db: { environment: production, url_env: PROD_DB_URL }
  staging-db: { environment: staging, url_env: STAGING_DB_URL }
probes:
  - { id: prod-db-ready, type: pg_ready, database: prod-db, summary: Backend DB unreachable }
  - { id: staging-db-ready, type: pg_ready, database: staging-db, summary: Staging DB unreachable }
`;
  const config = loadConfigText(yaml, 'pg-e2e.yaml', { PROD_DB_URL: server.monitorUrl, STAGING_DB_URL: server.monitorUrl });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());

  // A healthy round first, so the outage below is what opens the incidents.
  await waitFor(() => daemon.state.subjects.get('prod-db-ready')?.ok === true && daemon.state.subjects.get('staging-db-ready')?.ok === true, 60_000, () => 'probes never passed');
  t.same(daemon.store.listIncidents({ state: 'open' }), [], 'no incident while the database is up');

  await server.stop();
  const open = await waitFor(() => {
    const list = daemon.store.listIncidents({ state: 'open' });
    return list.length === 2 ? list : null;
  }, 60_000, () => `open incidents: ${JSON.stringify(daemon.store.listIncidents({}))}`);
  const prod = open.find((i) => i.environment === 'production')!;
  const staging = open.find((i) => i.environment === 'staging')!;
  t.match(prod, { severity: 'S1', service: 'db', summary: 'Backend DB unreachable', rootProbe: 'prod-db-ready', respondBy: Number });
  t.match(prod.message, `connection refused by 127.0.0.1:${server.port}/postgres`);
  t.match(staging, { severity: 'S3', service: 'db', rootProbe: 'staging-db-ready' });
  t.notOk(JSON.stringify(open).includes(MONITOR_PASSWORD), 'no password in the incidents');

  await server.start();
  const resolved = await waitFor(() => {
    const list = daemon.store.listIncidents({ state: 'resolved' });
    return list.length === 2 && daemon.store.listIncidents({ state: 'open' }).length === 0 ? list : null;
  }, 60_000, () => `incidents: ${JSON.stringify(daemon.store.listIncidents({}))}`);
  t.same(resolved.map((i) => i.id).sort(), [prod.id, staging.id].sort(), 'the same two incidents resolved');
  t.ok(resolved.every((i) => i.timeline.some((e) => e.event === 'resolved')), 'each timeline ends resolved');
});
