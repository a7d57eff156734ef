// A real Daemon whose probe runs are scripted by the test (through tap's mockImport): each run ends when the test says.
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import type { Config, ResolvedProbe } from '../../src/config/types.js';
import type { Daemon } from '../../src/daemon.js';
import * as probes from '../../src/probes/index.js';
import type { ProbeRun } from '../../src/types.js';

export interface ScriptedRuns {
  calls: Array<{ probe: ResolvedProbe; finish: (ok: boolean) => void }>;
  runProbe: (probe: ResolvedProbe) => Promise<ProbeRun>;
  /** From now on every run that starts ends at once with this result (or the result for its probe id); null: held. */
  autoFinish(ok: boolean | null | ((probe: string) => boolean | null)): void;
}

/** Probe runs that ignore their abort signal and end only when the test finishes them (or autoFinish says). */
export function scriptedRuns(): ScriptedRuns {
  const calls: ScriptedRuns['calls'] = [];
  let auto: boolean | null | ((probe: string) => boolean | null) = null;
  const runProbe = (probe: ResolvedProbe): Promise<ProbeRun> =>
    new Promise((resolve) => {
      const finish = (ok: boolean) =>
        resolve({ probe: probe.id, startedAt: Date.now(), durationMs: 1, outcome: ok ? 'success' : 'failure', findings: [{ key: probe.id, ok, message: ok ? 'up' : 'connection refused' }] });
      calls.push({ probe, finish });
      const ok = typeof auto === 'function' ? auto(probe.id) : auto;
      if (ok !== null) finish(ok);
    });
  return { calls, runProbe, autoFinish: (ok) => (auto = ok) };
}

export async function startScriptedDaemon(t: Test, runs: ScriptedRuns, config: Config, opts: { log?: Logger; now?: () => number } = {}): Promise<Daemon> {
  const { Daemon: Scripted } = await t.mockImport<typeof import('../../src/daemon.js')>('../../src/daemon.js', {
    '../../src/probes/index.js': { ...probes, runProbe: runs.runProbe },
  });
  const daemon = await Scripted.start({ config, log: opts.log ?? pino({ enabled: false }), version: 'test', listen: false, ...(opts.now ? { now: opts.now } : {}) });
  t.teardown(() => daemon.stop().catch(() => undefined));
  return daemon;
}
