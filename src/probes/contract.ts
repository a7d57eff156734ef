// The contract every probe type keeps: what a run gets (ProbeContext), what it is (ProbeFn, never
// throwing), and what a type registers (ProbeType). Apart from src/types.ts so that the transports,
// which produce findings, do not import what imports them.
import type { Logger } from 'pino';
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { Transports } from '../transport/index.js';
import type { Finding, PushState } from '../types.js';

export interface ProbeContext {
  signal: AbortSignal;
  log: Logger;
  now: () => number;
  /** Shared SSH connections and PostgreSQL pools; probes borrow, never close them. */
  transports: Transports;
  /**
   * What this probe keeps between its own runs (recent latencies, the previous run's counters), in
   * memory and per probe id; absent for a one-off run (`vigil check`, triage), which then judges
   * only what a single run can.
   */
  memory?: ProbeMemory;
  /** The last heartbeat of each push probe, as the server stored it; absent where there is no store. */
  pushes?: PushBook;
}

/** A probe's own notes between runs, keyed by what the probe type chooses (a Map will do). */
export interface ProbeMemory {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

export interface PushBook {
  pushState(probe: string): PushState | null;
}

/** A probe function never throws: every failure is a finding with ok: false. */
export type ProbeFn<C> = (cfg: C, ctx: ProbeContext) => Promise<Finding[]>;

/**
 * What a probe type brings: its function, and optionally how its findings' `values` become the
 * type's own metrics (vigil_pg_*, vigil_container_up), so probes stay free of the metrics registry.
 */
export interface ProbeType {
  run: ProbeFn<ResolvedProbe>;
  observe?: (probe: ResolvedProbe, findings: Finding[], metrics: Metrics) => void;
  /** Starts loading what the type's runs need, once a config with such a probe is applied, so a first run's timeout does not pay for it. */
  prepare?: () => void;
}
