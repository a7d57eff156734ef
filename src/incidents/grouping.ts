// Which open incident a failing subject belongs to through its probe's dependencies (direct, transitive, implicit).
import type { ProbeMeta, ResolvedProbe } from '../config/types.js';
import type { Incident, SubjectState } from '../types.js';
import { isActive, type Draft } from './draft.js';

/** Slack on top of an upstream's expected time to confirm its failure (scheduling jitter, a slow run). */
export const GROUPING_SLACK_MS = 5_000;
/** However slowly an upstream confirms, a failure confirmed downstream waits at most this long to page. */
export const MAX_GROUPING_WAIT_MS = 3 * 60_000;

export interface Dependencies {
  /** Probe ids reached through depends_on, transitively; never the probe itself. */
  readonly probes: ReadonlySet<string>;
  /** Finding keys (`host:<name>`) the probe or any probe it depends on implicitly needs. */
  readonly keys: ReadonlySet<string>;
}

// The probe map of a config never changes, so each probe's walk is done once per config, not on
// every probe run; a reload brings a new map and so a fresh cache.
const walked = new WeakMap<ReadonlyMap<string, ProbeMeta>, Map<string, Dependencies>>();

export function dependenciesOf(probeId: string, probes: ReadonlyMap<string, ProbeMeta>): Dependencies {
  let cache = walked.get(probes);
  if (!cache) walked.set(probes, (cache = new Map()));
  const known = cache.get(probeId);
  if (known) return known;
  const deps = walk(probeId, probes);
  cache.set(probeId, deps);
  return deps;
}

interface Dependents {
  /** Per probe id: the probes that depend on it (directly, transitively). */
  readonly ofProbe: ReadonlyMap<string, readonly string[]>;
  /** Per finding key (`host:<name>`): the probes that implicitly depend on it. */
  readonly ofKey: ReadonlyMap<string, readonly string[]>;
}

const inverted = new WeakMap<ReadonlyMap<string, ProbeMeta>, Dependents>();

/** The probes that depend on `subject` (its key or its probe): isUpstream(subject, p) for each, and for no other. */
export function dependentsOf(subject: Pick<SubjectState, 'key' | 'probe'>, probes: ReadonlyMap<string, ProbeMeta>): string[] {
  let dependents = inverted.get(probes);
  if (!dependents) {
    const ofProbe = new Map<string, string[]>();
    const ofKey = new Map<string, string[]>();
    const add = (index: Map<string, string[]>, at: string, id: string) => {
      const ids = index.get(at);
      if (ids) ids.push(id);
      else index.set(at, [id]);
    };
    for (const id of probes.keys()) {
      const deps = dependenciesOf(id, probes);
      for (const dep of deps.probes) add(ofProbe, dep, id);
      for (const key of deps.keys) add(ofKey, key, id);
    }
    inverted.set(probes, (dependents = { ofProbe, ofKey }));
  }
  return [...new Set([...(dependents.ofKey.get(subject.key) ?? []), ...(dependents.ofProbe.get(subject.probe) ?? [])])];
}

/**
 * The subjects a probe with these dependencies depends on: those of its dependency keys and those
 * its dependency probes reported, in the subjects' order. Found through the index, never by walking
 * every subject, so grouping costs what the dependencies hold, not the size of the fleet.
 */
function upstreamSubjects(draft: Draft, deps: Dependencies): SubjectState[] {
  return draft.subjectsInOrder([...deps.keys, ...[...deps.probes].flatMap((probe) => draft.keysOfProbe(probe))]);
}

/** What most probes depend on: nothing. One instance for them all, instead of two empty sets each. */
const NO_DEPENDENCIES: Dependencies = { probes: new Set(), keys: new Set() };

function walk(probeId: string, probes: ReadonlyMap<string, ProbeMeta>): Dependencies {
  const own = probes.get(probeId);
  if (own && own.dependsOn.length === 0 && own.implicitDeps.length === 0) return NO_DEPENDENCIES;
  const deps = { probes: new Set<string>(), keys: new Set<string>() };
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
  for (const other of upstreamSubjects(draft, deps)) {
    if (other.key === key) continue;
    const incident = draft.incident(other.incidentId);
    if (!isActive(incident) || incident.rootKey === key) continue;
    if (!found || incident.id < found.id) found = incident;
  }
  return found;
}

/** Whether `subject` is something the probe `probeId` depends on (directly, transitively, implicitly). */
export function isUpstream(subject: Pick<SubjectState, 'key' | 'probe'>, probeId: string, probes: ReadonlyMap<string, ProbeMeta>): boolean {
  const deps = dependenciesOf(probeId, probes);
  return deps.keys.has(subject.key) || deps.probes.has(subject.probe);
}

/**
 * The upstream a failure confirmed at its threshold should wait for: one that is failing too, in no
 * incident yet, and still within the time its own threshold needs (its interval × remaining runs,
 * its timeout and some slack, capped). One round of probe runs arrives as separate steps, often the
 * dependents first; waiting lets the most upstream failure open the incident and the others join it,
 * instead of the first one to arrive paging for a symptom. Undefined: open now.
 */
export function upstreamToWaitFor(
  draft: Draft,
  key: string,
  probeId: string,
  probes: ReadonlyMap<string, ProbeMeta>,
): SubjectState | undefined {
  const deps = dependenciesOf(probeId, probes);
  for (const other of upstreamSubjects(draft, deps)) {
    if (other.key === key || other.ok !== false || isActive(draft.incident(other.incidentId))) continue;
    const meta = probes.get(other.probe);
    if (!meta) continue;
    const expected = (meta.failureThreshold - 1) * meta.intervalMs + meta.timeoutMs + GROUPING_SLACK_MS;
    if (draft.now < other.since + Math.min(expected, MAX_GROUPING_WAIT_MS)) return other;
  }
  return undefined;
}

/**
 * The runbook's implicit database dependency: a probe that uses a database (pg_connections,
 * pg_long_queries, pg_query) depends on the pg_ready probes of that database, so "database down"
 * is the root and "no connections / long queries" its symptoms. Returns the probes' metas with
 * those ids added to `depends_on`, for the engine's config; pg_ready probes are left alone.
 */
export function withDatabaseDependencies(probes: readonly ResolvedProbe[]): ProbeMeta[] {
  const readyByDatabase = new Map<string, string[]>();
  for (const p of probes) {
    if (p.spec.type !== 'pg_ready' || !p.enabled) continue;
    readyByDatabase.set(p.spec.database, [...(readyByDatabase.get(p.spec.database) ?? []), p.id]);
  }
  return probes.map((p) => {
    const database = p.spec.type === 'pg_ready' || !('database' in p.spec) ? undefined : p.spec.database;
    const ready = database === undefined ? [] : (readyByDatabase.get(database) ?? []).filter((id) => !p.dependsOn.includes(id));
    return ready.length === 0 ? p : { ...p, dependsOn: [...p.dependsOn, ...ready] };
  });
}
