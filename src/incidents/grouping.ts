// Which open incident a failing subject belongs to through its probe's dependencies (direct, transitive, implicit).
import type { ProbeMeta } from '../config/types.js';
import type { Incident } from '../types.js';
import { isActive, type Draft } from './draft.js';

export interface Dependencies {
  /** Probe ids reached through depends_on, transitively; never the probe itself. */
  probes: Set<string>;
  /** Finding keys (`host:<name>`) the probe or any probe it depends on implicitly needs. */
  keys: Set<string>;
}

export function dependenciesOf(probeId: string, probes: ReadonlyMap<string, ProbeMeta>): Dependencies {
  const deps: Dependencies = { probes: new Set(), keys: new Set() };
  const seen = new Set<string>([probeId]);
  const queue = [probeId];
  // A cycle in depends_on (which config load should refuse anyway) must not loop forever.
  while (queue.length > 0) {
    const meta = probes.get(queue.shift()!);
    if (!meta) continue;
    for (const key of meta.implicitDeps) deps.keys.add(key);
    for (const dep of meta.dependsOn) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      deps.probes.add(dep);
      queue.push(dep);
    }
  }
  return deps;
}

/**
 * The open incident a subject of `probeId` should join as a symptom: one that a subject it depends
 * on already belongs to (as root or as symptom, so chains collapse into one incident). The oldest
 * wins when several qualify, so the answer does not depend on map order.
 */
export function incidentToJoin(
  draft: Draft,
  key: string,
  probeId: string,
  probes: ReadonlyMap<string, ProbeMeta>,
): Incident | undefined {
  const deps = dependenciesOf(probeId, probes);
  let found: Incident | undefined;
  for (const other of draft.subjects()) {
    if (other.key === key) continue;
    if (!deps.keys.has(other.key) && !deps.probes.has(other.probe)) continue;
    const incident = draft.incident(other.incidentId);
    if (!isActive(incident) || incident.rootKey === key) continue;
    if (!found || incident.id < found.id) found = incident;
  }
  return found;
}
