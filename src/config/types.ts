// The loaded config: validated, defaults applied, references checked, secrets resolved, frozen.
import type { Severity } from '../types.js';
import type { DatabaseConfig, EscalateRule, HostConfig, MaintenanceConfig, OncallFlags, ProbeConfig } from './schema.js';

export interface ProbeMeta {
  id: string;
  type: ProbeConfig['type'];
  environment: string;
  service: string;
  severity: Severity;
  summary: string;
  intervalMs: number;
  /** Cron expression; when set, `intervalMs` is only the nominal period used for spreading. */
  schedule: string | null;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  /** Probe ids named in `depends_on`. */
  dependsOn: string[];
  /** Finding keys this probe implicitly depends on: `host:<name>` of its host or its database's tunnel. */
  implicitDeps: string[];
  enabled: boolean;
  escalate: EscalateRule[];
  /**
   * Incident summaries of secondary findings that have their own words, by finding key (a redis
   * probe's queues and memory); other secondary findings read "<summary> (<about>)".
   */
  summaries?: Readonly<Record<string, string>>;
}

/** A probe ready to run: its meta, its type-specific config, and its resolved secrets. */
export interface ResolvedProbe extends ProbeMeta {
  spec: ProbeConfig;
  /** Header values with `value_env` / `value_file` resolved (http only). */
  headers: Record<string, string>;
  /**
   * The probe's own `*_env` / `*_file` secrets, resolved, by stem: `token` (push), `url` (redis),
   * `endpoint`, `access_key_id`, `secret_access_key` (backup). Absent when the type has none.
   */
  secrets?: Readonly<Record<string, string>>;
}

export interface ResolvedHost extends HostConfig {
  name: string;
  privateKey: string | null;
  passphrase: string | null;
}

export interface ResolvedDatabase extends DatabaseConfig {
  name: string;
  url: string | null;
}

export interface Config {
  /** Path of the file this was loaded from. */
  file: string;
  server: {
    listen: string;
    host: string;
    port: number;
    publicUrl: string | null;
    apiToken: string | null;
    /** HMAC key of the signed action links in alerts; with publicUrl, alerts carry "Acknowledge" buttons. */
    actionSecret: string | null;
  };
  store: {
    /** The SQLite file; unused when `postgres` is set. */
    path: string;
    retentionMs: number;
    /**
     * The PostgreSQL database replicas share, instead of the file. `url` (secret) is null only when a
     * reading command loaded the config without its secrets and the variable is not set.
     */
    postgres?: { urlEnv: string; url: string | null } | null;
  };
  defaults: { intervalMs: number; timeoutMs: number; failureThreshold: number; successThreshold: number; concurrency: number };
  environments: Record<string, { severityCap: Severity | null }>;
  hosts: Record<string, ResolvedHost>;
  databases: Record<string, ResolvedDatabase>;
  maintenance: MaintenanceConfig[];
  alerts: {
    /** Webhook URLs (secret), and the role #ops pings on S1/S2 incident, reminder and escalation lines. */
    discord: { errors: string | null; warnings: string | null; ops: string | null; mentionRole?: string | null };
    betterstack: { sourceToken: string | null; endpoint: string; heartbeatUrl: string | null; heartbeatIntervalMs: number } | null;
    /** Better Stack Uptime on-call incidents (alerts.betterstack.oncall), or null when not configured. */
    oncall?: OncallConfig | null;
    /** An outbox message still undelivered this long after it was written is given up (alerts.max_age). */
    maxAgeMs: number;
  };
  probes: ResolvedProbe[];
  /** Several replicas on one PostgreSQL store (`cluster:`), or null/absent for one vigil alone. */
  cluster?: ClusterConfig | null;
}

/** `cluster:`, resolved: the replica named (the hostname by default), the interval in ms. */
export interface ClusterConfig {
  replica: string;
  /** How many of the replicas that ran a probe in the last interval must see a failure before it counts. */
  quorum: 1 | 'majority' | 'all';
  mode: 'replicate' | 'shard';
  /** How often replicas heartbeat and a standby tries to lead; a dead leader is replaced within two. */
  intervalMs: number;
}

/** alerts.betterstack.oncall, resolved: the API token read, durations in ms. */
export interface OncallConfig {
  apiToken: string;
  apiUrl: string;
  requesterEmail: string;
  /** The severities that page through Better Stack, each with how it reaches the person on call. */
  severities: Partial<Record<'S1' | 'S2', OncallFlags>>;
  policyId: string | null;
  teamWaitMs: number | null;
  syncIntervalMs: number;
}
