// The daemon's shell around the engine: what a shutdown does to runs in flight, and what an operator's write answers when the store fails.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import type { Config } from '../src/config/types.js';
import { Daemon, StoreWriteError } from '../src/daemon.js';
import { RENDER_MAX_AGE_MS } from '../src/server/render-cache.js';
import { httpTestProbe, testConfig, withApiToken } from './helpers/config.js';
import { startSilentServer, unusedPort } from './helpers/http-servers.js';
import { tmpDir } from './helpers/tmp.js';
import { waitFor } from './helpers/vigil-process.js';

function oneProbe(dir: string, url: string, timing: { intervalMs: number; timeoutMs: number }): Config {
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url }), ...timing, failureThreshold: 1 };
  return testConfig({ store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 }, probes: [probe] });
}

t.test('a run cut short by shutdown is not a failure: no incident opens as vigil stops', { timeout: 60_000 }, async (t) => {
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const dir = tmpDir(t);
  // The probe's own timeout is longer than the stop lets any run go on: shutdown aborts it.
  const config = oneProbe(dir, `${silent.url}/health`, { intervalMs: 1_000, timeoutMs: 30_000 });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  // The first run is due within its 1 s period, then hangs: stop only once it is in flight.
  await waitFor(() => silent.open() > 0, 30_000, () => 'the probe never connected');
  t.equal(daemon.state.subjects.get('backend-health'), undefined, 'nothing recorded while the run is in flight');
  const started = Date.now();
  await daemon.stop();
  t.ok(Date.now() - started < 12_000, `stopped in ${Date.now() - started} ms`);
  t.equal(daemon.state.subjects.get('backend-health'), undefined, 'the aborted run left no failure behind');
  t.equal([...daemon.state.incidents.values()].length, 0, 'and opened no incident');
});

t.test('an ack the store cannot record is an error, not a success', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const config = withApiToken(oneProbe(dir, `http://127.0.0.1:${await unusedPort()}/health`, { intervalMs: 200, timeoutMs: 150 }), 'tok');
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await daemon.stop().catch(() => undefined);
  });
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 15_000, () => 'no incident opened');
  daemon.store.close(); // from here on the store refuses every write
  t.throws(() => daemon.dispatch({ type: 'ack', incidentId: incident.id, by: 'alice' }), StoreWriteError);
  const res = await daemon.app.inject({ method: 'POST', url: `/api/incidents/${incident.id}/ack`, headers: { authorization: 'Bearer tok' }, payload: { by: 'alice' } });
  t.equal(res.statusCode, 500, 'the API does not answer 200 for an ack that was not kept');
  t.equal(daemon.state.incidents.get(incident.id)?.state, 'open', 'the engine state did not move ahead of the store');
  stopped = true;
  await daemon.stop().catch(() => undefined); // the closed store refuses the last flush
});

t.test('a reload that drops the probe of an open incident says the incident needs a human', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const config = oneProbe(dir, `http://127.0.0.1:${await unusedPort()}/health`, { intervalMs: 200, timeoutMs: 150 });
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'info', base: null }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const daemon = await Daemon.start({ config, log, version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 15_000, () => 'no incident opened');
  daemon.reload(testConfig({ ...config, probes: [] }));
  const warned = lines.find((l) => l.incident_id === incident.id && l.level === 40);
  t.match(warned?.msg, `incident #${incident.id} stays open: its probe "backend-health" is no longer in the config or enabled`);
});

t.test('a reload that removes a probe removes its series from /metrics', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const config = oneProbe(dir, `http://127.0.0.1:${await unusedPort()}/health`, { intervalMs: 200, timeoutMs: 150 });
  const other = { ...httpTestProbe({ id: 'webapp-health', severity: 'S3', summary: 'Webapp down', url: `http://127.0.0.1:${await unusedPort()}/` }), intervalMs: 200, timeoutMs: 150 };
  const both = testConfig({ ...config, probes: [...config.probes, other] });
  const daemon = await Daemon.start({ config: both, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const metrics = async () => (await daemon.app.inject({ method: 'GET', url: '/metrics' })).body;
  await waitFor(async () => /vigil_probe_success\{probe="webapp-health"/.test(await metrics()) && /vigil_probe_success\{probe="backend-health"/.test(await metrics()), 15_000);
  daemon.reload(testConfig({ ...both, probes: [config.probes[0]!] }));
  const text = await metrics();
  t.notMatch(text, /probe="webapp-health"/, 'no series of the removed probe: success, duration, runs');
  t.match(text, /vigil_probe_success\{probe="backend-health",type="http",environment="production",service="[^"]+"\} 0/, 'the remaining probe keeps its series');
});

t.test('/api/status keeps its rendering while a failing streak climbs, and renders again as the incident opens', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const url = `http://127.0.0.1:${await unusedPort()}/health`;
  // Ten refused runs, 100 ms apart, before the incident opens: nine of them only count.
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url }), intervalMs: 100, timeoutMs: 90, failureThreshold: 10 };
  const config = testConfig({ store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 }, probes: [probe] });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const read = async () => ({ at: Date.now(), body: (await daemon.app.inject({ url: '/api/status' })).body, state: daemon.state });
  await waitFor(() => daemon.state.subjects.get('backend-health')?.ok === false, 15_000, () => 'the probe never failed');
  let kept = 0;
  let last = await read();
  for (;;) {
    const changed = await waitFor(() => daemon.state !== last.state && daemon.state, 15_000, () => 'the probe stopped running');
    const next = await read();
    // Only a read within the rendering's age limit tells a kept rendering from a new one.
    const telling = next.at - last.at < RENDER_MAX_AGE_MS - 200;
    if (changed.incidents.size > 0) {
      t.ok(telling, `reads ${next.at - last.at} ms apart`);
      t.match(JSON.parse(next.body).open_incidents, [{ summary: 'Backend API down' }], 'the incident is shown at once');
      t.ok(kept > 0, `${kept} reads got the kept rendering while the streak climbed`);
      return;
    }
    if (telling) {
      t.equal(next.body, last.body, `failures ${changed.subjects.get('backend-health')?.failures}: the kept rendering`);
      kept++;
    }
    last = next;
  }
});
