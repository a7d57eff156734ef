// The daemon discards a probe run that is stale when it ends: abandoned by the scheduler after a newer run began, or reloaded away.
import { join } from 'node:path';
import t from 'tap';
import type { Config } from '../src/config/types.js';
import { httpTestProbe, testConfig } from './helpers/config.js';
import { scriptedRuns, startScriptedDaemon } from './helpers/scripted-daemon.js';
import { tmpDir } from './helpers/tmp.js';
import { waitFor } from './helpers/vigil-process.js';

function oneProbe(dir: string, url = 'http://127.0.0.1:9/health'): Config {
  // Abandoned 200 ms + the scheduler's 2 s grace after it starts; one failure would open an incident.
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url }), intervalMs: 300, timeoutMs: 200, failureThreshold: 1 };
  return testConfig({ store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 }, probes: [probe] });
}

/** Lets the daemon's continuation of a just-finished run execute. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

t.test('a run abandoned by the scheduler that ends after a newer run is discarded', { timeout: 60_000 }, async (t) => {
  const runs = scriptedRuns();
  const daemon = await startScriptedDaemon(t, runs, oneProbe(tmpDir(t)));
  await waitFor(() => runs.calls.length >= 1, 20_000, () => 'the first run never started');
  const first = runs.calls[0]!;
  runs.autoFinish(true);
  // The first run ignores its timeout; the scheduler gives up on it and starts a newer one, which passes.
  await waitFor(() => daemon.state.subjects.get('backend-health')?.ok === true, 30_000, () => 'no newer run passed');
  t.ok(runs.calls.length >= 2, 'a newer run started while the first was still going');
  first.finish(false); // the stale run finally ends, failing
  await settle();
  t.equal(daemon.state.subjects.get('backend-health')?.ok, true, 'the stale failure did not overwrite the newer pass');
  t.equal(daemon.state.incidents.size, 0, 'and opened no incident');
});

t.test('a run of a probe reloaded away while it ran is discarded', { timeout: 60_000 }, async (t) => {
  const runs = scriptedRuns();
  const dir = tmpDir(t);
  const config = oneProbe(dir);
  const daemon = await startScriptedDaemon(t, runs, config);
  await waitFor(() => runs.calls.length >= 1, 20_000, () => 'the first run never started');
  const first = runs.calls[0]!;
  // The same id, now pointing elsewhere: the run in flight tested the old target.
  daemon.reload(oneProbe(dir, 'http://127.0.0.1:9/moved'));
  first.finish(false);
  await settle();
  t.equal(daemon.state.subjects.get('backend-health'), undefined, "the old probe's failure was not recorded");
  t.equal(daemon.state.incidents.size, 0, 'and opened no incident');
  // The guard discards only stale runs: the reloaded probe's own failure counts.
  await waitFor(() => runs.calls.length >= 2, 20_000, () => 'the reloaded probe never ran');
  runs.calls[1]!.finish(false);
  await waitFor(() => daemon.state.incidents.size === 1, 10_000, () => 'the current run was not recorded');
  t.equal([...daemon.state.incidents.values()][0]?.summary, 'Backend API down');
});
