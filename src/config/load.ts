// Loads a config file: YAML → schema → cross-references → secrets, every problem at once with its position, then a frozen Config.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import ms from 'ms';
import { addSchemaIssue, ConfigError, configIssueMessage, didYouMean, formatPath, isRecord, Problems, type PathSegment } from './errors.js';
import { parseDuration } from '../duration.js';
import { readYaml } from './read-yaml.js';
import { configSchema, type ProbeConfig, type RawConfig, type RedisProbeConfig } from './schema.js';
import type { Config, ResolvedDatabase, ResolvedHost, ResolvedProbe } from './types.js';
import type { Severity } from '../types.js';

type Env = NodeJS.ProcessEnv;
type Secrets = ReadonlyMap<string, string>;

export interface LoadOptions {
  /**
   * false for commands that only read the store (`vigil incidents`, `vigil review`): a secret whose
   * variable or file is missing is then left unset instead of refusing the config.
   */
  requireSecrets?: boolean;
}

/** Reads and loads `file`; `*_file` secrets are read relative to the file's directory. Throws ConfigError. */
export function loadConfig(file: string, env: Env = process.env, opts: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read the config file: ${osReason(err)}` }]);
  }
  return loadConfigText(text, file, env, path.dirname(path.resolve(file)), opts);
}

/** Loads config text; `file` names it in problems, `baseDir` anchors relative `*_file` paths. Throws ConfigError. */
export function loadConfigText(text: string, file: string, env: Env = process.env, baseDir: string = process.cwd(), opts: LoadOptions = {}): Config {
  const problems = new Problems(file, text);
  const raw = readYaml(text, problems);
  if (raw === null || raw === undefined) {
    problems.addAt(0, 'the config is empty: expected at least "environments" and "probes"');
    throw problems.error();
  }
  const parsed = configSchema.safeParse(raw, { error: configIssueMessage });
  if (!parsed.success) for (const issue of parsed.error.issues) addSchemaIssue(problems, issue, [], raw);
  checkReferences(raw, problems);
  const secrets = resolveSecrets(raw, env, baseDir, problems, opts.requireSecrets !== false);
  checkActionSecret(secrets, problems);
  if (!parsed.success || problems.list.length > 0) throw problems.error();
  return deepFreeze(buildConfig(parsed.data, file, secrets));
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** Replicas share what they know through PostgreSQL: a SQLite file is one machine's. */
function checkCluster(root: Record<string, unknown>, problems: Problems): void {
  if (root.cluster === undefined || root.cluster === null) return;
  if (record(root.store).postgres !== undefined) return;
  problems.add(['cluster'], 'replicas need a PostgreSQL store they all share: set store.postgres.url_env (store.path is a SQLite file on one machine)');
}

// ── cross-references (on the raw tree, so they are reported even when the schema also failed) ──
function checkReferences(raw: unknown, problems: Problems): void {
  const root = record(raw);
  const store = record(root.store);
  if (store.path !== undefined && store.postgres !== undefined) problems.add(['store', 'postgres'], 'set only one of "path" and "postgres": the store is a SQLite file or a PostgreSQL database');
  const environments = isRecord(root.environments) ? Object.keys(root.environments) : null;
  const hosts = record(root.hosts);
  const databases = record(root.databases);
  const unknown = (what: string, name: string, known: string[]) =>
    `unknown ${what} ${JSON.stringify(name)}${didYouMean(name, known)}${known.length === 0 ? ` (no ${what}s are declared)` : ''}`;
  const checkEnvironment = (at: PathSegment[], value: unknown) => {
    const name = str(value);
    if (name !== undefined && environments !== null && !environments.includes(name)) problems.add(at, unknown('environment', name, environments));
  };

  checkCluster(root, problems);
  for (const [name, host] of Object.entries(hosts)) checkEnvironment(['hosts', name, 'environment'], record(host).environment);
  for (const [name, db] of Object.entries(databases)) {
    checkEnvironment(['databases', name, 'environment'], record(db).environment);
    const via = str(record(db).via);
    if (via !== undefined && !Object.hasOwn(hosts, via)) problems.add(['databases', name, 'via'], unknown('host', via, Object.keys(hosts)));
  }
  (Array.isArray(root.maintenance) ? root.maintenance : []).forEach((m, i) => checkEnvironment(['maintenance', i, 'environment'], record(m).environment));

  const probes = Array.isArray(root.probes) ? root.probes.map(record) : [];
  const firstIndex = new Map<string, number>();
  probes.forEach((p, i) => {
    const id = str(p.id);
    if (id === undefined) return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, i);
    else problems.add(['probes', i, 'id'], `duplicate probe id ${JSON.stringify(id)}, first used by probes[${first}] at line ${problems.position(['probes', first]).line}`);
  });
  const ids = [...firstIndex.keys()];
  const defaultInterval = parseDuration(str(record(root.defaults).interval) ?? '30s');

  probes.forEach((p, i) => {
    const hostName = str(p.host);
    const dbName = str(p.database);
    const host = hostName !== undefined && Object.hasOwn(hosts, hostName) ? record(hosts[hostName]) : undefined;
    const db = dbName !== undefined && Object.hasOwn(databases, dbName) ? record(databases[dbName]) : undefined;
    if (hostName !== undefined && !host) problems.add(['probes', i, 'host'], unknown('host', hostName, Object.keys(hosts)));
    if (dbName !== undefined && !db) problems.add(['probes', i, 'database'], unknown('database', dbName, Object.keys(databases)));
    // A redis probe tunnels like a database: through `via`, whose environment it inherits.
    const viaName = p.type === 'redis' ? str(p.via) : undefined;
    if (viaName !== undefined && !Object.hasOwn(hosts, viaName)) problems.add(['probes', i, 'via'], unknown('host', viaName, Object.keys(hosts)));
    if (p.environment !== undefined) checkEnvironment(['probes', i, 'environment'], p.environment);
    else if (hostName === undefined && dbName === undefined && viaName === undefined) {
      problems.add(['probes', i], 'missing required key "environment": a probe without a host or database must name its environment');
    }
    (Array.isArray(p.depends_on) ? p.depends_on : []).forEach((dep, j) => {
      if (typeof dep === 'string' && !firstIndex.has(dep)) problems.add(['probes', i, 'depends_on', j], unknown('probe', dep, ids));
    });
    const timeout = parseDuration(str(p.timeout) ?? '');
    // A push probe's schedule is its job's and a backup probe's the backups': they are judged every interval.
    const interval = p.schedule === undefined || p.type === 'push' || p.type === 'backup' ? (p.interval === undefined ? defaultInterval : parseDuration(str(p.interval) ?? '')) : undefined;
    if (timeout !== undefined && interval !== undefined && timeout > interval) {
      problems.add(['probes', i, 'timeout'], `expected a timeout no longer than the interval (${ms(interval)}), got ${ms(timeout)}: runs would pile up`);
    }
  });
  checkCycles(probes, firstIndex, problems);
}

/** Reports each dependency cycle once, at the first probe of the cycle in file order. */
function checkCycles(probes: Record<string, unknown>[], firstIndex: ReadonlyMap<string, number>, problems: Problems): void {
  const edges = new Map<string, string[]>();
  for (const [id, i] of firstIndex) {
    const deps = probes[i]?.depends_on;
    edges.set(id, (Array.isArray(deps) ? deps : []).filter((d): d is string => typeof d === 'string' && firstIndex.has(d)));
  }
  const done = new Set<string>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    stack.push(id);
    for (const dep of edges.get(id) ?? []) {
      const onStack = stack.indexOf(dep);
      if (onStack >= 0) {
        const cycle = stack.slice(onStack);
        const start = cycle.reduce((best, m, k) => ((firstIndex.get(m) ?? 0) < (firstIndex.get(cycle[best] ?? '') ?? 0) ? k : best), 0);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
        const head = ordered[0] ?? id;
        const next = ordered[1] ?? head;
        const text = [...ordered, head].join(' → ');
        if (reported.has(text)) continue;
        reported.add(text);
        const at = firstIndex.get(head) ?? 0;
        const deps = probes[at]?.depends_on;
        problems.add(['probes', at, 'depends_on', Array.isArray(deps) ? deps.indexOf(next) : 0], `dependency cycle ${text}`);
      } else if (!done.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    done.add(id);
  };
  for (const id of firstIndex.keys()) if (!done.has(id)) visit(id);
}

// ── secrets ───────────────────────────────────────────────────────────────────────────────────
const SECRET_KEYS = new Set([
  'api_token_env', 'api_token_file', 'action_secret_env', 'action_secret_file', 'private_key_env', 'private_key_file', 'passphrase_env', 'url_env', 'url_file',
  'value_env', 'value_file', 'source_token_env', 'source_token_file', 'heartbeat_url_env',
  'token_env', 'token_file',
  // backup probes
  'endpoint_env', 'endpoint_file', 'access_key_id_env', 'access_key_id_file', 'secret_access_key_env', 'secret_access_key_file',
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Resolves every `*_env` / `*_file` into a map keyed by the formatted path of its key. Messages never hold a value.
 * Without `requireAll`, only the store's secrets are problems when missing: a reading command needs nothing else.
 */
function resolveSecrets(raw: unknown, env: Env, baseDir: string, allProblems: Problems, requireAll: boolean): Secrets {
  const secrets = new Map<string, string>();
  const walk = (value: unknown, at: PathSegment[]): void => {
    const problems = requireAll || at[0] === 'store' ? allProblems : null;
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, i]));
    if (!isRecord(value)) return;
    for (const [key, v] of Object.entries(value)) {
      const here = [...at, key];
      if (at[0] === 'probes' && key === 'expect') continue; // expected JSON bodies, not config keys
      if (!SECRET_KEYS.has(key) || typeof v !== 'string') {
        walk(v, here);
      } else if (key.endsWith('_env')) {
        if (!ENV_NAME.test(v)) continue; // the schema reports the bad name
        const found = env[v];
        if (found === undefined || found === '') problems?.add(here, `environment variable ${v} is ${found === undefined ? 'not set' : 'empty'}`);
        else secrets.set(formatPath(here), found);
      } else {
        try {
          const content = readFileSync(path.resolve(baseDir, v), 'utf8');
          // A key file keeps its exact bytes; a token or URL file loses the trailing newline editors add.
          const secret = key === 'private_key_file' ? content : content.trim();
          if (secret.trim() === '') problems?.add(here, `file ${JSON.stringify(v)} is empty`);
          else secrets.set(formatPath(here), secret);
        } catch (err) {
          problems?.add(here, `cannot read ${JSON.stringify(v)}: ${osReason(err)}`);
        }
      }
    }
  };
  walk(raw, []);
  return secrets;
}

/** Anyone who can guess the key that signs action links can acknowledge and resolve incidents. */
export const MIN_ACTION_SECRET_LENGTH = 32;

function checkActionSecret(secrets: Secrets, problems: Problems): void {
  for (const key of ['action_secret_env', 'action_secret_file']) {
    const value = secrets.get(formatPath(['server', key]));
    if (value !== undefined && value.length < MIN_ACTION_SECRET_LENGTH) {
      problems.add(['server', key], `expected a key of at least ${MIN_ACTION_SECRET_LENGTH} characters (e.g. from "openssl rand -hex 32"), got ${value.length}`);
    }
  }
}

/** "ENOENT: no such file or directory" without the path Node appends (the caller names it as written). */
function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/, \w+ '.*'$/s, '');
}

// ── the Config ────────────────────────────────────────────────────────────────────────────────
const DEFAULT_SEVERITY: Record<ProbeConfig['type'], Severity> = {
  http: 'S2', compose_ps: 'S2', compose_logs: 'S3', pg_ready: 'S1', pg_connections: 'S3', pg_long_queries: 'S3', pg_query: 'S3',
  push: 'S2', host: 'S2', pg_health: 'S1',
  redis: 'S2', backup: 'S1',
};
/** The `*_env` / `*_file` secrets a probe type carries itself, by stem. */
const PROBE_SECRETS: Partial<Record<ProbeConfig['type'], readonly string[]>> = {
  push: ['token'],
  redis: ['url'],
  backup: ['endpoint', 'access_key_id', 'secret_access_key'],
};

function buildConfig(c: RawConfig, file: string, secrets: Secrets): Config {
  const secret = (at: PathSegment[], stem: string): string | null =>
    secrets.get(formatPath([...at, `${stem}_env`])) ?? secrets.get(formatPath([...at, `${stem}_file`])) ?? null;
  const split = c.server.listen.lastIndexOf(':');
  const hosts: Record<string, ResolvedHost> = {};
  for (const [name, h] of Object.entries(c.hosts)) {
    hosts[name] = { ...h, name, privateKey: secret(['hosts', name], 'private_key'), passphrase: secret(['hosts', name], 'passphrase') };
  }
  const databases: Record<string, ResolvedDatabase> = {};
  for (const [name, d] of Object.entries(c.databases)) databases[name] = { ...d, name, url: secret(['databases', name], 'url') };
  const environments: Config['environments'] = {};
  for (const [name, e] of Object.entries(c.environments)) environments[name] = { severityCap: e.severity_cap ?? null };
  const bs = c.alerts.betterstack;
  const webhook = (channel: string) => secret(['alerts', 'discord', channel], 'url');
  const oncall = bs?.oncall;
  const alerts: Config['alerts'] = {
    discord: { errors: webhook('errors'), warnings: webhook('warnings'), ops: webhook('ops'), mentionRole: c.alerts.discord?.ops?.mention_role ?? null },
    betterstack: bs
      ? {
          sourceToken: secret(['alerts', 'betterstack'], 'source_token'),
          endpoint: bs.endpoint,
          heartbeatUrl: secret(['alerts', 'betterstack'], 'heartbeat_url'),
          heartbeatIntervalMs: bs.heartbeat_interval,
        }
      : null,
    oncall: oncall
      ? {
          apiToken: secret(['alerts', 'betterstack', 'oncall'], 'api_token') ?? '',
          apiUrl: oncall.api_url,
          requesterEmail: oncall.requester_email,
          severities: oncall.severities,
          policyId: oncall.policy_id ?? null,
          teamWaitMs: oncall.team_wait ?? null,
          syncIntervalMs: oncall.sync_interval,
        }
      : null,
    maxAgeMs: c.alerts.max_age,
  };
  return {
    file,
    server: {
      listen: c.server.listen,
      host: c.server.listen.slice(0, split).replace(/^\[(.*)\]$/, '$1'),
      port: Number(c.server.listen.slice(split + 1)),
      publicUrl: c.server.public_url ?? null,
      apiToken: secret(['server'], 'api_token'),
      actionSecret: secret(['server'], 'action_secret'),
    },
    store: {
      path: c.store.path,
      retentionMs: c.store.retention,
      postgres: c.store.postgres ? { urlEnv: c.store.postgres.url_env, url: secret(['store', 'postgres'], 'url') } : null,
    },
    defaults: {
      intervalMs: c.defaults.interval,
      timeoutMs: c.defaults.timeout,
      failureThreshold: c.defaults.failure_threshold,
      successThreshold: c.defaults.success_threshold,
      concurrency: c.defaults.concurrency,
    },
    environments,
    hosts,
    databases,
    maintenance: c.maintenance,
    alerts,
    probes: c.probes.map((p, i) => buildProbe(p, i, c, hosts, databases, secrets)),
    cluster: c.cluster ? { replica: c.cluster.replica ?? hostname(), quorum: c.cluster.quorum, mode: c.cluster.mode, intervalMs: c.cluster.interval } : null,
  };
}

function buildProbe(p: ProbeConfig, i: number, c: RawConfig, hosts: Record<string, ResolvedHost>, databases: Record<string, ResolvedDatabase>, secrets: Secrets): ResolvedProbe {
  const host = 'host' in p ? hosts[p.host] : undefined;
  const database = 'database' in p ? databases[p.database] : undefined;
  const via = p.type === 'redis' && p.via !== undefined ? hosts[p.via] : undefined;
  const intervalMs = p.interval ?? c.defaults.interval;
  const service = p.service ?? defaultService(p, database);
  // A heartbeat's state is the stored last ping, the same on every run until the next ping: one
  // late or failed judgement is the news, so a push probe opens and resolves at once by default.
  const pushDefault = p.type === 'push' ? 1 : undefined;
  const probeSecrets: Record<string, string> = {};
  for (const stem of PROBE_SECRETS[p.type] ?? []) {
    const value = secrets.get(formatPath(['probes', i, `${stem}_env`])) ?? secrets.get(formatPath(['probes', i, `${stem}_file`]));
    if (value !== undefined) probeSecrets[stem] = value;
  }
  const headers: Record<string, string> = {};
  if (p.type === 'http') {
    for (const [name, value] of Object.entries(p.headers)) {
      const at = formatPath(['probes', i, 'headers', name]);
      headers[name] = typeof value === 'string' ? value : (secrets.get(`${at}.value_env`) ?? secrets.get(`${at}.value_file`) ?? '');
    }
  }
  return {
    id: p.id,
    type: p.type,
    // checkReferences guarantees one of these exists for a config that got this far.
    environment: p.environment ?? host?.environment ?? database?.environment ?? via?.environment ?? '',
    service,
    severity: p.severity ?? DEFAULT_SEVERITY[p.type],
    summary: p.summary ?? defaultSummary(p, service),
    intervalMs,
    schedule: p.type === 'push' || p.type === 'backup' ? null : (p.schedule ?? null),
    // An inherited timeout never outlasts the probe's own interval; an explicit one is checked instead.
    timeoutMs: p.timeout ?? Math.min(c.defaults.timeout, intervalMs),
    failureThreshold: p.failure_threshold ?? pushDefault ?? c.defaults.failure_threshold,
    successThreshold: p.success_threshold ?? pushDefault ?? c.defaults.success_threshold,
    dependsOn: p.depends_on,
    implicitDeps: host ? [`host:${host.name}`] : database?.via ? [`host:${database.via}`] : via ? [`host:${via.name}`] : [],
    enabled: p.enabled,
    escalate: p.escalate === undefined ? [] : Array.isArray(p.escalate) ? p.escalate : [p.escalate],
    spec: p,
    headers,
    ...(PROBE_SECRETS[p.type] ? { secrets: probeSecrets } : {}),
    ...(p.type === 'redis' ? { summaries: redisSummaries(p) } : {}),
  };
}

function defaultService(p: ProbeConfig, database: ResolvedDatabase | undefined): string {
  if (p.type === 'http' || p.type === 'push') return p.id;
  if (p.type === 'compose_ps' || p.type === 'host') return p.host;
  if (p.type === 'redis') return 'redis';
  if (p.type === 'backup') return 'backup';
  return database?.service ?? 'db';
}

/** Each queue of a redis probe is its own incident, called by its `summary` ("Generation pipeline stuck"). */
function redisSummaries(p: RedisProbeConfig): Record<string, string> {
  const summaries: Record<string, string> = { [`${p.id}:memory`]: `Redis ${p.id} running out of memory` };
  for (const q of p.queues) summaries[`${p.id}:queue:${q.key}`] = q.summary ?? `Queue ${q.key} backed up or stuck`;
  return summaries;
}

/** The words every message about the probe uses when the config gives none: "<summary> on <environment>". */
function defaultSummary(p: ProbeConfig, service: string): string {
  const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  switch (p.type) {
    case 'http':
      return `HTTP check ${p.id} failing`;
    case 'compose_ps':
      return `Containers down or unhealthy on ${p.host}`;
    case 'compose_logs':
      return `Errors in ${service} logs`;
    case 'pg_ready':
      return `${title(p.database)} unreachable`;
    case 'pg_connections':
      return `${title(p.database)} running out of connections`;
    case 'pg_long_queries':
      return `Long-running queries on ${p.database}`;
    case 'pg_query':
      return `${title(p.id)} past its threshold`;
    case 'push':
      return `Heartbeat ${p.id} late or failing`;
    case 'host':
      return `Disk or memory running out on ${p.host}`;
    case 'pg_health':
      return `${title(p.database)} data at risk`;
    case 'redis':
      return `Redis ${p.id} unreachable`;
    case 'backup':
      return `Backups in ${p.bucket}/${p.prefix} missing or broken`;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
