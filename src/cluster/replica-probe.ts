// The leader's judgement of the replicas themselves: one that alone sees everything fail is cut off
// from the fleet, which is its own S3 ("vigil replica vigil-b cannot reach …"), not a fleet outage.
import type { Config, ProbeMeta } from '../config/types.js';
import type { Finding } from '../types.js';
import { cutOffReplicas, type Quorum, type ReplicaResult, type Streak } from './quorum.js';

/** The engine's probe id for replica findings; ":" keeps it apart from every configured probe id. */
export const REPLICA_PROBE_ID = 'vigil:cluster';
const KEY_PREFIX = `${REPLICA_PROBE_ID}:`;

/** The probe the replica findings belong to, in the environment most of the fleet's probes are in. */
export function replicaProbeMeta(config: Config): ProbeMeta {
  const count = new Map<string, number>();
  for (const p of config.probes) count.set(p.environment, (count.get(p.environment) ?? 0) + 1);
  const environment = [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? Object.keys(config.environments)[0] ?? 'production';
  const intervalMs = config.cluster?.intervalMs ?? 5_000;
  return {
    id: REPLICA_PROBE_ID,
    // Not run by the scheduler: the leader judges it. The engine does not read the type.
    type: 'push',
    environment,
    service: 'vigil',
    severity: 'S3',
    summary: 'vigil replica cut off from the fleet',
    intervalMs,
    schedule: null,
    timeoutMs: intervalMs,
    failureThreshold: 2,
    successThreshold: 2,
    dependsOn: [],
    implicitDeps: [],
    enabled: true,
    escalate: [],
  };
}

/**
 * One finding per replica in `replicas`: failing for one cut off (every probe it ran lately failed
 * while the others, by the quorum, saw them pass), passing otherwise.
 */
export function replicaFindings(
  replicas: readonly string[],
  results: readonly ReplicaResult[],
  opts: { now: number; windowMs: number; quorum: Quorum; streaks?: ReadonlyMap<string, Streak> },
): Finding[] {
  const cut = new Set(cutOffReplicas(results, opts));
  return replicas.map((name): Finding => {
    const key = `${KEY_PREFIX}${name}`;
    if (!cut.has(name)) return { key, ok: true, message: `vigil replica ${name} reaches the fleet` };
    const failing = [...new Set(results.filter((r) => r.replica === name && r.at >= opts.now - opts.windowMs).map((r) => r.probe))].sort();
    const named = failing.length <= 5 ? failing.join(', ') : `${failing.slice(0, 5).join(', ')} and ${failing.length - 5} more`;
    return {
      key,
      ok: false,
      service: name,
      message: `vigil replica ${name} cannot reach ${named}, which the other replicas see healthy: its network path to the fleet, not the fleet, is broken`,
    };
  });
}
