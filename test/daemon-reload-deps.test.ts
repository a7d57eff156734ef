// A reload that changes depends_on takes effect at once: the dependency walk cached per config is rebuilt.
import { join } from 'node:path';
import t from 'tap';
import type { Config } from '../src/config/types.js';
import { httpTestProbe, testConfig } from './helpers/config.js';
import { scriptedRuns, startScriptedDaemon } from './helpers/scripted-daemon.js';
import { tmpDir } from './helpers/tmp.js';
import { waitFor } from './helpers/vigil-process.js';

function config(dir: string, backendDependsOn: string[]): Config {
  const timing = { intervalMs: 300, timeoutMs: 5_000, failureThreshold: 1, successThreshold: 1 };
  return testConfig({
    store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 },
    probes: [
      { ...httpTestProbe({ id: 'db-ready', service: 'db', severity: 'S1', summary: 'Backend DB unreachable' }), ...timing },
      { ...httpTestProbe({ id: 'backend-health', service: 'backend', severity: 'S1', summary: 'Backend API down', dependsOn: backendDependsOn }), ...timing },
    ],
  });
}

t.test('after a reload adds depends_on, a failing dependent joins the open root incident', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const runs = scriptedRuns();
  const failing = new Set(['db-ready']);
  runs.autoFinish((probe) => !failing.has(probe));
  const daemon = await startScriptedDaemon(t, runs, config(dir, []));
  const root = await waitFor(() => [...daemon.state.incidents.values()].find((i) => i.rootProbe === 'db-ready'), 20_000, () => 'the db incident did not open');

  daemon.reload(config(dir, ['db-ready']));
  failing.add('backend-health');
  await waitFor(() => daemon.state.subjects.get('backend-health')?.ok === false, 20_000, () => 'backend-health did not fail');
  await waitFor(() => daemon.state.incidents.get(root.id)?.symptoms.includes('backend-health'), 20_000, () => 'backend-health did not join the db incident');
  t.same([...daemon.state.incidents.values()].map((i) => i.rootProbe), ['db-ready'], 'no incident of its own');

});
