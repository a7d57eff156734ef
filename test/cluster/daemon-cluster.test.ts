// Two daemons in one process, contending on a real PostgreSQL: one leads and steps the engine, the
// other probes and stands by; GET /api/cluster and vigil_cluster_leader say which; the leader stopping
// hands over within two intervals.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import type { Config } from '../../src/config/types.js';
import { Daemon } from '../../src/daemon.js';
import { httpTestProbe, testConfig } from '../helpers/config.js';
import { unusedPort } from '../helpers/http-servers.js';
import { startPostgres } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const INTERVAL_MS = 300;

function replicaConfig(dir: string, name: string, url: string, target: string): Config {
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url: target }), intervalMs: 200, timeoutMs: 150, failureThreshold: 1 };
  const store = { path: join(dir, `${name}.db`), retentionMs: 86_400_000, postgres: { urlEnv: 'VIGIL_STORE_URL', url } };
  return testConfig({ store, probes: [probe], cluster: { replica: name, quorum: 'majority', mode: 'replicate', intervalMs: INTERVAL_MS } });
}

t.test('one daemon leads, the other stands by; stopping the leader hands over', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const dir = tmpDir(t);
  const target = `http://127.0.0.1:${await unusedPort()}/health`;
  const log = pino({ enabled: false });
  const a = await Daemon.start({ config: replicaConfig(dir, 'vigil-a', pg.superuserUrl, target), log, version: 'test', listen: false });
  let aStopped = false;
  t.teardown(async () => {
    if (!aStopped) await a.stop();
  });
  await waitFor(() => a.leading, 15_000, () => 'vigil-a never led');
  const b = await Daemon.start({ config: replicaConfig(dir, 'vigil-b', pg.superuserUrl, target), log, version: 'test', listen: false });
  t.teardown(() => b.stop());

  // The leader steps the engine with both replicas' failures: the incident opens there only.
  await waitFor(() => [...a.state.incidents.values()].length > 0, 15_000, () => 'the leader opened no incident');
  t.equal(b.leading, false, 'the second daemon stands by');
  const openedByA = [...a.state.incidents.keys()];
  t.equal([...b.state.incidents.values()].length, 0, 'a standby steps no engine of its own');
  const db = await pg.connect();
  const replicas = await waitFor(async () => {
    const r = await db.query<{ replica: string }>('SELECT DISTINCT replica FROM vigil_probe_results ORDER BY replica');
    return r.rows.length === 2 ? r.rows.map((row) => row.replica) : null;
  }, 10_000, () => 'the standby wrote no probe result');
  t.same(replicas, ['vigil-a', 'vigil-b'], 'both replicas wrote their probe results');

  const cluster = await waitFor(async () => {
    const res = await b.app.inject({ method: 'GET', url: '/api/cluster' });
    const body = res.json() as { leader: string; replicas: Array<{ name: string; probes: number; last_seen: string }> };
    return body.replicas?.length === 2 && body.replicas.every((r) => r.probes === 1) && body.leader === 'vigil-a' ? body : null;
  }, 10_000, () => 'the standby\'s /api/cluster never listed both replicas under vigil-a');
  t.same(cluster.replicas.map((r) => [r.name, r.probes]), [['vigil-a', 1], ['vigil-b', 1]], 'GET /api/cluster on the standby: both, one probe each');
  t.match((await a.app.inject({ method: 'GET', url: '/metrics' })).body, /vigil_cluster_leader\{replica="vigil-a"\} 1/);
  t.match((await b.app.inject({ method: 'GET', url: '/metrics' })).body, /vigil_cluster_leader\{replica="vigil-b"\} 0/);

  const stoppedAt = Date.now();
  aStopped = true;
  await a.stop();
  await waitFor(() => b.leading, 15_000, () => 'vigil-b never took over');
  const took = Date.now() - stoppedAt;
  t.ok(took < 2 * INTERVAL_MS + 2_000, `vigil-b leads ${took} ms after vigil-a stopped`);
  t.match((await b.app.inject({ method: 'GET', url: '/metrics' })).body, /vigil_cluster_leader\{replica="vigil-b"\} 1/);
  t.same([...b.state.incidents.keys()], openedByA, 'the new leader carries on the incident the old one opened, loaded from the shared store');
});

t.test('a vigil alone has no cluster to show', async (t) => {
  const daemon = await Daemon.start({ config: testConfig({ probes: [] }), log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const res = await daemon.app.inject({ method: 'GET', url: '/api/cluster' });
  t.equal(res.statusCode, 404);
  t.equal(res.json().error.code, 'not_clustered');
  t.notMatch((await daemon.app.inject({ method: 'GET', url: '/metrics' })).body, /vigil_cluster_leader\{/, 'no leader series for a vigil alone');
  t.equal(daemon.leading, true, 'and it leads itself');
});

t.test('shard mode: the live replicas split the probes; one leaving hands its share to the other', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const dir = tmpDir(t);
  const log = pino({ enabled: false });
  const port = await unusedPort();
  const probes = Array.from({ length: 12 }, (_, i) => ({ ...httpTestProbe({ id: `probe-${i}`, url: `http://127.0.0.1:${port}/${i}` }), intervalMs: 1_000, timeoutMs: 500 }));
  const config = (name: string) =>
    testConfig({
      store: { path: join(dir, `${name}.db`), retentionMs: 86_400_000, postgres: { urlEnv: 'VIGIL_STORE_URL', url: pg.superuserUrl } },
      probes,
      cluster: { replica: name, quorum: 'majority', mode: 'shard', intervalMs: INTERVAL_MS },
    });
  const a = await Daemon.start({ config: config('vigil-a'), log, version: 'test', listen: false });
  let aStopped = false;
  t.teardown(async () => {
    if (!aStopped) await a.stop();
  });
  const b = await Daemon.start({ config: config('vigil-b'), log, version: 'test', listen: false });
  t.teardown(() => b.stop());
  const shares = await waitFor(async () => {
    const body = (await a.app.inject({ method: 'GET', url: '/api/cluster' })).json() as { replicas: Array<{ name: string; probes: number }> };
    const counts = body.replicas.map((r) => r.probes);
    return counts.length === 2 && counts[0]! + counts[1]! === probes.length && counts.every((n) => n > 0) ? counts : null;
  }, 15_000, () => 'the replicas never split the probes between them');
  t.comment(`shares: ${shares.join(' + ')}`);
  t.pass('each replica runs a share, together all of them once');
  // From the split on, every probe runs, each on one replica only (a run begun before may still end).
  const since = Date.now() + 200;
  const db = await pg.connect();
  await waitFor(async () => (await db.query('SELECT DISTINCT probe FROM vigil_probe_results WHERE at > $1', [since])).rowCount === probes.length, 15_000, () => 'not every probe ran');
  const doubled = await db.query(`SELECT probe FROM vigil_probe_results WHERE at > $1 GROUP BY probe HAVING count(*) > 1`, [since]);
  t.equal(doubled.rowCount, 0, 'no probe ran on both replicas since the split');

  aStopped = true;
  await a.stop();
  await waitFor(async () => {
    const body = (await b.app.inject({ method: 'GET', url: '/api/cluster' })).json() as { replicas: Array<{ name: string; probes: number }> };
    return body.replicas.find((r) => r.name === 'vigil-b')?.probes === probes.length;
  }, 15_000, () => 'vigil-b did not take over the probes of the replica that left');
  t.pass('the replica left runs every probe once the other stopped heartbeating');
});
