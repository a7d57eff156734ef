// Which runbook triage steps fit an incident (docs/incidents.md, Evidence): a pure function of the incident and the config.
import type { Config, ResolvedProbe } from '../config/types.js';
import type { RedisTarget } from '../transport/redis.js';
import type { Incident } from '../types.js';

/** The runbook's "queries running longer than 1 minute", when no pg_long_queries probe says otherwise. */
export const DEFAULT_LONG_QUERY_MS = 60_000;
/** The runbook's `docker compose logs --tail=50 <service>`. */
export const LOG_TAIL_LINES = 50;
// A service on more hosts than this (or an incident touching more databases) is a fleet-wide event:
// the first few answer the question, the rest would only slow the page down.
const MAX_HOSTS = 3;
const MAX_DATABASES = 3;
const MAX_REDIS = 2;

export type TriageStep =
  | { kind: 'compose_ps'; host: string; source: string }
  | { kind: 'compose_logs'; host: string; service: string; source: string }
  | { kind: 'pg_connections'; database: string; source: string }
  | { kind: 'pg_long_queries'; database: string; olderThanMs: number; source: string }
  | { kind: 'impact'; database: string; sql: string; source: string }
  | { kind: 'disk'; host: string; source: string }
  /** `target` carries the probe's resolved URL: steps live in memory only, never stored or logged. */
  | { kind: 'redis'; probe: string; target: RedisTarget; queues: string[]; source: string };

export type TriageConfig = Pick<Config, 'probes' | 'hosts' | 'databases'>;
export type TriageSubject = Pick<Incident, 'environment' | 'service' | 'rootProbe' | 'rootKey'>;

/**
 * The steps, in the runbook's order (service health, then database, then users affected), each with
 * the evidence source it is filed under. Hosts: the root's own (its compose probe, or the host whose
 * reachability failed), then every host of the incident's environment whose compose_ps lists the
 * service or that a compose_logs probe reads it on, and the tunnel host of the root's database; logs
 * only where the host is known to run the service. Databases: the root's own, those of pg_ready
 * probes the root depends on (transitively), then those of the environment whose `service` is the
 * incident's. Redis (INFO and queue lengths): the root's own redis probe, those it depends on, and
 * those filed under the incident's service. `df -P` where a full disk fits (see diskSteps).
 */
export function planTriage(incident: TriageSubject, config: TriageConfig): TriageStep[] {
  const index = indexOf(config.probes);
  const probes = index.byId;
  const root = probes.get(incident.rootProbe);
  const inEnvironment = (host: string) => config.hosts[host]?.environment === incident.environment;

  const hosts = new Set<string>();
  const runsService = new Set<string>();
  if (incident.rootKey.startsWith('host:')) hosts.add(incident.rootKey.slice('host:'.length));
  if (root && (root.spec.type === 'compose_ps' || root.spec.type === 'compose_logs')) hosts.add(root.spec.host);
  for (const host of index.composeHosts.get(incident.service) ?? []) {
    if (!inEnvironment(host)) continue;
    hosts.add(host);
    runsService.add(host);
  }

  const databases = new Set<string>();
  const rootDb = root ? databaseOf(root) : undefined;
  if (rootDb !== undefined) databases.add(rootDb);
  // A database reached through a host's SSH tunnel runs on that host, as its compose service.
  const tunnel = rootDb === undefined ? undefined : config.databases[rootDb];
  if (tunnel?.via !== undefined && inEnvironment(tunnel.via)) {
    hosts.add(tunnel.via);
    if (tunnel.service === incident.service) runsService.add(tunnel.via);
  }
  for (const dep of dependencyIds(incident.rootProbe, probes)) {
    const p = probes.get(dep);
    if (p?.spec.type === 'pg_ready') databases.add(p.spec.database);
  }
  for (const [name, db] of Object.entries(config.databases)) {
    if (db.service === incident.service && db.environment === incident.environment) databases.add(name);
  }

  const steps: TriageStep[] = [];
  for (const host of [...hosts].filter((h) => config.hosts[h] !== undefined).slice(0, MAX_HOSTS)) {
    steps.push({ kind: 'compose_ps', host, source: `compose-ps:${host}` });
    if (runsService.has(host)) {
      steps.push({ kind: 'compose_logs', host, service: incident.service, source: `logs:${host}/${incident.service}` });
    }
  }
  steps.push(...diskSteps(incident, root, rootDb, config));
  const known = [...databases].filter((d) => config.databases[d] !== undefined).slice(0, MAX_DATABASES);
  for (const database of known) {
    steps.push({ kind: 'pg_connections', database, source: `connections:${database}` });
    steps.push({ kind: 'pg_long_queries', database, olderThanMs: index.longQueryMs.get(database) ?? DEFAULT_LONG_QUERY_MS, source: `long-queries:${database}` });
  }
  for (const id of redisProbes(incident, root, index).slice(0, MAX_REDIS)) {
    const p = probes.get(id)!;
    if (p.spec.type !== 'redis') continue;
    steps.push({ kind: 'redis', probe: id, target: { url: p.secrets?.url ?? null, via: p.spec.via }, queues: p.spec.queues.map((q) => q.key), source: `redis:${id}` });
  }
  for (const database of known) {
    const sql = config.databases[database]?.impact_query;
    if (sql !== undefined && sql.trim() !== '') steps.push({ kind: 'impact', database, sql, source: `impact:${database}` });
  }
  return steps;
}

/**
 * `df -P` where a full disk fits the incident: the host of a `host` probe (its own disks), and the
 * host a root database is reached through (a database that cannot write stops). Not on a host that
 * cannot be reached: the step would only repeat that.
 */
function diskSteps(incident: TriageSubject, root: ResolvedProbe | undefined, rootDb: string | undefined, config: TriageConfig): TriageStep[] {
  const disks = new Set<string>();
  if (root?.spec.type === 'host') disks.add(root.spec.host);
  const via = rootDb === undefined ? undefined : config.databases[rootDb]?.via;
  if (via !== undefined) disks.add(via);
  if (incident.rootKey.startsWith('host:')) disks.delete(incident.rootKey.slice('host:'.length));
  return [...disks].filter((h) => config.hosts[h] !== undefined).map((host) => ({ kind: 'disk', host, source: `df:${host}` }));
}

/** Redis probes whose INFO and queues fit the incident, the root's own first. */
function redisProbes(incident: TriageSubject, root: ResolvedProbe | undefined, index: ProbeIndex): string[] {
  const found = new Set<string>();
  if (root?.spec.type === 'redis') found.add(root.id);
  for (const dep of dependencyIds(incident.rootProbe, index.byId)) if (index.byId.get(dep)?.spec.type === 'redis') found.add(dep);
  for (const id of index.redisByPlace.get(incident.environment)?.get(incident.service) ?? []) found.add(id);
  return [...found];
}

/** What planTriage looks up in the probe list, made once per list (a config's list never changes). */
interface ProbeIndex {
  byId: ReadonlyMap<string, ResolvedProbe>;
  /** Per compose service, the hosts of the compose_ps probes that list it and the compose_logs probes that read it, in config order. */
  composeHosts: ReadonlyMap<string, readonly string[]>;
  /** Per environment and service, the enabled redis probes, in config order. */
  redisByPlace: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  /** Per database, the older_than of its first pg_long_queries probe. */
  longQueryMs: ReadonlyMap<string, number>;
}

const indexes = new WeakMap<readonly ResolvedProbe[], ProbeIndex>();

function indexOf(probes: readonly ResolvedProbe[]): ProbeIndex {
  const known = indexes.get(probes);
  if (known) return known;
  const byId = new Map<string, ResolvedProbe>();
  const composeHosts = new Map<string, string[]>();
  const redisByPlace = new Map<string, Map<string, string[]>>();
  const longQueryMs = new Map<string, number>();
  const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const p of probes) {
    byId.set(p.id, p);
    const spec = p.spec;
    if (spec.type === 'compose_ps') for (const service of Object.keys(spec.services)) push(composeHosts, service, spec.host);
    if (spec.type === 'compose_logs') push(composeHosts, spec.service, spec.host);
    if (spec.type === 'redis' && p.enabled) {
      let byService = redisByPlace.get(p.environment);
      if (!byService) redisByPlace.set(p.environment, (byService = new Map()));
      push(byService, p.service, p.id);
    }
    if (spec.type === 'pg_long_queries' && !longQueryMs.has(spec.database)) longQueryMs.set(spec.database, spec.older_than);
  }
  const index = { byId, composeHosts, redisByPlace, longQueryMs };
  indexes.set(probes, index);
  return index;
}

function databaseOf(p: ResolvedProbe): string | undefined {
  return 'database' in p.spec ? p.spec.database : undefined;
}

/** Probe ids the probe reaches through depends_on, transitively, cycles tolerated. */
function dependencyIds(id: string, probes: ReadonlyMap<string, ResolvedProbe>): string[] {
  const seen = new Set<string>([id]);
  const queue = [id];
  const found: string[] = [];
  while (queue.length > 0) {
    for (const dep of probes.get(queue.shift()!)?.dependsOn ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      found.push(dep);
      queue.push(dep);
    }
  }
  return found;
}
