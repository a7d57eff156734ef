// Maps a probe type to its function and runs one probe: findings plus an outcome, never a throw.
import type { Logger } from 'pino';
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { Transports } from '../transport/index.js';
import type { Finding, ProbeOutcome, ProbeRun } from '../types.js';
import type { ProbeContext, ProbeFn, ProbeMemory, ProbeType, PushBook } from './contract.js';
import { httpProbe } from './http.js';
import { pgProbeTypes } from './pg-types.js';
import { composeLogsProbe } from './compose-logs.js';
import { composePsProbe, observeComposePs } from './compose-ps.js';
import { moreProbeTypes } from './more-types.js';
import { backupProbe, observeBackup, prepareBackup } from './backup.js';
import { observeRedis, redisProbe } from './redis.js';

// Each probe function receives the resolved probe with its own `spec` type.
const probeTypes: Partial<Record<ResolvedProbe['type'], ProbeType>> = {
  http: { run: httpProbe as ProbeFn<ResolvedProbe> },
  ...pgProbeTypes,
  compose_ps: { run: composePsProbe as ProbeFn<ResolvedProbe>, observe: observeComposePs },
  compose_logs: { run: composeLogsProbe as ProbeFn<ResolvedProbe> },
  // heartbeats, hosts, database health
  ...moreProbeTypes,
  // Redis and backups
  redis: { run: redisProbe as ProbeFn<ResolvedProbe>, observe: observeRedis },
  backup: { run: backupProbe as ProbeFn<ResolvedProbe>, observe: observeBackup, prepare: prepareBackup },
};

/** Probe types this build can run; the config may name others that a later version adds. */
export function isRunnable(type: string): boolean {
  return type in probeTypes;
}

/** Lets the types of `probes` load what their runs need (once per type and process). */
export function prepareProbeTypes(probes: readonly Pick<ResolvedProbe, 'type'>[]): void {
  for (const type of new Set(probes.map((p) => p.type))) probeTypes[type]?.prepare?.();
}

/** Sets the probe type's own metrics from a run's findings. */
export function observeRun(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  probeTypes[probe.type]?.observe?.(probe, findings, metrics);
}

export async function runProbe(
  probe: ResolvedProbe,
  signal: AbortSignal,
  log: Logger,
  transports: Transports,
  now: () => number = Date.now,
  keep: Pick<ProbeContext, 'memory' | 'pushes'> = {},
): Promise<ProbeRun> {
  const startedAt = now();
  const fn = probeTypes[probe.type]?.run;
  let findings: Finding[];
  let crashed = false;
  if (!fn) {
    findings = [{ key: probe.id, ok: false, severity: 'S4', message: `probe type "${probe.type}" is not available in this version of vigil` }];
    crashed = true;
  } else {
    try {
      const ctx = new RunContext(signal, log, probe.id, now, transports, keep);
      findings = await fn(probe, ctx);
    } catch (err) {
      // A probe must not throw; if one does, that is vigil's bug, reported as data rather than a crash.
      log.error({ probe: probe.id, err }, 'probe threw instead of returning a finding');
      findings = [{ key: probe.id, ok: false, message: `vigil's ${probe.type} probe failed internally: ${(err as Error)?.message ?? String(err)}` }];
      crashed = true;
    }
  }
  const durationMs = Math.max(0, now() - startedAt);
  return { probe: probe.id, findings, startedAt, durationMs, outcome: outcomeOf(findings, signal, crashed) };
}

/** What a run gets; a class, so that every run's context has the same shape. */
class RunContext implements ProbeContext {
  readonly memory: ProbeMemory | undefined;
  readonly pushes: PushBook | undefined;
  #log: Logger;
  #probe: string;
  #child: Logger | undefined;
  constructor(
    readonly signal: AbortSignal,
    log: Logger,
    probe: string,
    readonly now: () => number,
    readonly transports: Transports,
    keep: Pick<ProbeContext, 'memory' | 'pushes'>,
  ) {
    this.#log = log;
    this.#probe = probe;
    this.memory = keep.memory;
    this.pushes = keep.pushes;
  }

  /** The child logger is made only if the probe logs (rarely): one per run costs more than the run's own work. */
  get log(): Logger {
    return (this.#child ??= this.#log.child({ probe: this.#probe }));
  }
}

function outcomeOf(findings: Finding[], signal: AbortSignal, crashed: boolean): ProbeOutcome {
  if (crashed) return 'error';
  if (findings.every((f) => f.ok)) return 'success';
  return signal.aborted ? 'timeout' : 'failure';
}
