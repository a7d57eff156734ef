// The config's shape, defaults and value rules (zod); cross-references are checked in load.ts.
import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { parseHostKeyLine } from '../transport/ssh-hostkey.js';
import { SEVERITIES } from '../types.js';

function durationOf(positive: boolean) {
  return z
    .string({ error: (iss) => `expected a duration like "30s", got ${describe(iss.input)}` })
    .transform((text, ctx) => {
      const value = parseDuration(text);
      if (value === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      if (positive && value === 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration longer than 0, got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      return value;
    });
}
const duration = durationOf(false);
/** A period or budget: 0 would run a probe back to back, fail every run, or give everything up at once. */
const period = durationOf(true);

export function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  const text = JSON.stringify(input) ?? String(input);
  // A long SQL or URL in the wrong place would drown the one line an operator needs to read.
  return text.length > 60 ? `${text.slice(0, 56)}…${text.slice(-1)}` : text;
}

/** A cron expression node-cron accepts (5 fields, or 6 with seconds), with its reason when not. */
const cron = z.string().superRefine((text, ctx) => {
  const result = validateDetailed(text);
  if (!result.valid) {
    const reason = result.errors.map((e) => e.message).join('; ');
    ctx.addIssue({ code: 'custom', message: `expected a cron expression like "*/5 * * * *", got ${JSON.stringify(text)} (${reason})` });
  }
});

/** Two keys of which exactly one (or, when optional, at most one) must be set. */
function oneOf(a: string, b: string, required: boolean) {
  return (value: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const hasA = value[a] !== undefined;
    const hasB = value[b] !== undefined;
    if (hasA && hasB) ctx.addIssue({ code: 'custom', path: [b], message: `set only one of "${a}" and "${b}"` });
    else if (required && !hasA && !hasB) ctx.addIssue({ code: 'custom', message: `missing required key "${a}" or "${b}"` });
  };
}

const severity = z.enum(SEVERITIES, {
  error: (iss) => `expected one of S1, S2, S3, S4, got ${describe(iss.input)}`,
});
const envVar = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name like "MY_SECRET"' });
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
  error: (iss) => `expected a name of lowercase letters, digits, "-" and "_", got ${describe(iss.input)}`,
});
const positiveInt = z.number().int().positive();
/**
 * As docker compose names services. An empty name would make `docker compose logs` read every
 * service, and a leading "-" would be taken for an option.
 */
const composeService = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
  error: (iss) => `expected a compose service name like "backend", got ${describe(iss.input)}`,
});
const ratio = z.number().gt(0).lte(1);

/** A secret: read from the environment or a file, never written in the config itself. */
const secretRef = z
  .strictObject({ value_env: envVar.optional(), value_file: z.string().optional() })
  .superRefine(oneOf('value_env', 'value_file', true));

// ── probes ────────────────────────────────────────────────────────────────────────────────────
const escalateRule = z
  .strictObject({
    count: positiveInt.optional(),
    after: duration.optional(),
    severity,
  })
  .refine((r) => (r.count === undefined) !== (r.after === undefined), {
    error: 'expected exactly one of "count" or "after"',
  });

const probeCommon = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, {
    error: (iss) => `expected an id of lowercase letters, digits and "-", got ${describe(iss.input)}`,
  }),
  environment: name.optional(),
  service: name.optional(),
  severity: severity.optional(),
  summary: z.string().min(1).max(200).optional(),
  interval: period.optional(),
  schedule: cron.optional(),
  timeout: period.optional(),
  failure_threshold: positiveInt.optional(),
  success_threshold: positiveInt.optional(),
  depends_on: z.array(z.string()).default([]),
  enabled: z.boolean().default(true),
  escalate: z.union([escalateRule, z.array(escalateRule)]).optional(),
};

/** A probe runs on a fixed interval or on a cron schedule, never both. */
function intervalOrSchedule(p: { interval?: number; schedule?: string }, ctx: z.core.$RefinementCtx): void {
  if (p.interval !== undefined && p.schedule !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'set either "interval" or "schedule", not both' });
  }
}

const statusCode = z.number().int().min(100).max(599);
export const httpProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: (iss) => `expected an http(s) URL, got ${describe(iss.input)}` }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS']).default('GET'),
  headers: z.record(z.string(), z.union([z.string(), secretRef])).default({}),
  body: z.string().optional(),
  expect: z
    .strictObject({
      status: z.array(statusCode).min(1).optional(),
      body_contains: z.string().optional(),
      json: z.unknown().optional(),
      max_latency: duration.optional(),
      p99_latency: z
        .strictObject({ above: period, window: period.prefault('5m'), severity: severity.default('S3') })
        .optional(),
    })
    .prefault({}),
  follow_redirects: z.number().int().min(0).max(10).default(3),
  tls_expiry: z
    .union([
      z.literal(false),
      z.strictObject({ warn: duration.prefault('21d'), critical: duration.prefault('7d') }).superRefine((t, ctx) => {
        if (t.critical >= t.warn) ctx.addIssue({ code: 'custom', path: ['critical'], message: 'expected "critical" shorter than "warn"' });
      }),
    ])
    .prefault({}),
}).superRefine(intervalOrSchedule);

export const composePsProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('compose_ps'),
  host: z.string(),
  services: z.record(composeService, severity),
}).superRefine(intervalOrSchedule);

export const composeLogsProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('compose_logs'),
  host: z.string(),
  service: composeService,
  pattern: z.string().refine(
    (p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'expected a valid regular expression' },
  ),
  window: period.prefault('5m'),
  /** Defaults to 1, unless error_rate is set: then only what the config asks for is judged. */
  threshold: positiveInt.optional(),
  error_rate: z
    .strictObject({ above: ratio, window: period.prefault('5m'), severity: severity.optional() })
    .optional(),
}).superRefine(intervalOrSchedule);

const dbProbe = { ...probeCommon, database: z.string() };
export const pgReadyProbe = z.strictObject({ ...dbProbe, type: z.literal('pg_ready') }).superRefine(intervalOrSchedule);
export const pgConnectionsProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_connections'),
  warn: ratio.default(0.8),
  critical: ratio.default(0.95),
}).superRefine((p, ctx) => {
  intervalOrSchedule(p, ctx);
  if (p.warn >= p.critical) ctx.addIssue({ code: 'custom', path: ['warn'], message: `expected "warn" (${p.warn}) below "critical" (${p.critical})` });
});
export const pgLongQueriesProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_long_queries'),
  older_than: period.prefault('1m'),
}).superRefine(intervalOrSchedule);
export const pgQueryProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_query'),
  sql: z.string().min(1),
  warn: z.number().optional(),
  critical: z.number().optional(),
  direction: z.enum(['above', 'below']).default('above'),
}).superRefine((p, ctx) => {
  intervalOrSchedule(p, ctx);
  if (p.warn === undefined && p.critical === undefined) {
    ctx.addIssue({ code: 'custom', message: 'missing required key "warn" or "critical": a pg_query needs a threshold' });
  } else if (p.warn !== undefined && p.critical !== undefined && (p.direction === 'above' ? p.warn >= p.critical : p.warn <= p.critical)) {
    const relation = p.direction === 'above' ? 'below' : 'above';
    ctx.addIssue({ code: 'custom', path: ['warn'], message: `expected "warn" (${p.warn}) ${relation} "critical" (${p.critical}) for direction "${p.direction}"` });
  }
});

// ── heartbeats, hosts, database health (push, host, pg_health) ─────────────────────────────────
/** A `{warn, critical}` pair of shares (0–1] where warn must be below critical. */
function shareThresholds(warn: number, critical: number | undefined) {
  return z
    .strictObject({ warn: ratio.default(warn), critical: critical === undefined ? ratio.optional() : ratio.default(critical) })
    .superRefine((t, ctx) => {
      if (t.critical !== undefined && t.warn >= t.critical) ctx.addIssue({ code: 'custom', path: ['warn'], message: `expected "warn" (${t.warn}) below "critical" (${t.critical})` });
    });
}

/** A counter that must not rise by more than `above` between two runs, or false to ignore it. */
const risingCounter = z.union([z.literal(false), z.strictObject({ above: z.number().int().min(0).default(0) })]).prefault({});

export const pushProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('push'),
  period: period.optional(),
  grace: duration.prefault('5m'),
  token_env: envVar.optional(),
  token_file: z.string().optional(),
}).superRefine((p, ctx) => {
  // For a push probe `schedule` is when the job runs (the heartbeat is due after it), not when vigil looks.
  oneOf('period', 'schedule', true)(p, ctx);
  oneOf('token_env', 'token_file', true)(p, ctx);
});

export const hostProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('host'),
  host: z.string(),
  disk: z.union([z.literal(false), shareThresholds(0.85, 0.95)]).prefault({}),
  memory: z.union([z.literal(false), shareThresholds(0.9, undefined)]).prefault({}),
}).superRefine(intervalOrSchedule);

export const pgHealthProbe = z.strictObject({
  ...probeCommon,
  database: z.string(),
  type: z.literal('pg_health'),
  wraparound: z
    .union([
      z.literal(false),
      z.strictObject({ warn: positiveInt.max(2 ** 31).default(1_000_000_000), critical: positiveInt.max(2 ** 31).default(1_500_000_000) }).superRefine((w, ctx) => {
        if (w.warn >= w.critical) ctx.addIssue({ code: 'custom', path: ['warn'], message: `expected "warn" (${w.warn}) below "critical" (${w.critical})` });
      }),
    ])
    .prefault({}),
  checksum_failures: z.boolean().default(true),
  deadlocks: risingCounter,
  conflicts: risingCounter,
}).superRefine(intervalOrSchedule);

// ── redis and backup probes ───────────────────────────────────────────────────────────────────
const redisQueue = z
  .strictObject({
    key: z.string().min(1, { error: 'expected the name of the Redis list, like "celery"' }),
    pending_above: z.number().int().min(0).optional(),
    stuck_after: period.optional(),
    severity: severity.optional(),
    summary: z.string().min(1).max(200).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.pending_above === undefined && q.stuck_after === undefined) {
      ctx.addIssue({ code: 'custom', message: 'missing required key "pending_above" or "stuck_after": a queue needs a threshold' });
    }
  });

export const redisProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('redis'),
  url_env: envVar.optional(),
  url_file: z.string().optional(),
  via: z.string().optional(),
  memory: z.union([z.literal(false), shareThresholds(0.8, 0.95)]).prefault({}),
  queues: z.array(redisQueue).default([]),
}).superRefine((p, ctx) => {
  intervalOrSchedule(p, ctx);
  oneOf('url_env', 'url_file', true)(p, ctx);
  const seen = new Set<string>();
  p.queues.forEach((q, i) => {
    if (seen.has(q.key)) ctx.addIssue({ code: 'custom', path: ['queues', i, 'key'], message: `queue ${JSON.stringify(q.key)} is listed twice` });
    seen.add(q.key);
  });
});

export const backupProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('backup'),
  endpoint_env: envVar.optional(),
  endpoint_file: z.string().optional(),
  region: z.string().min(1).default('auto'),
  access_key_id_env: envVar.optional(),
  access_key_id_file: z.string().optional(),
  secret_access_key_env: envVar.optional(),
  secret_access_key_file: z.string().optional(),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    error: (iss) => `expected an S3 bucket name like "sartiq-snapshots", got ${describe(iss.input)}`,
  }),
  prefix: z.string().default(''),
  /** Here the backups' own cron, not the probe's: a backup probe runs on its interval. */
  schedule: cron,
  grace: duration.prefault('30m'),
  min_size_ratio: z.number().min(0).max(1).default(0.5),
  md5_sidecar: z.boolean().default(true),
}).superRefine((p, ctx) => {
  oneOf('endpoint_env', 'endpoint_file', false)(p, ctx);
  oneOf('access_key_id_env', 'access_key_id_file', true)(p, ctx);
  oneOf('secret_access_key_env', 'secret_access_key_file', true)(p, ctx);
});

export const probeSchema = z.discriminatedUnion('type', [
  httpProbe,
  composePsProbe,
  composeLogsProbe,
  pgReadyProbe,
  pgConnectionsProbe,
  pgLongQueriesProbe,
  pgQueryProbe,
  pushProbe,
  hostProbe,
  pgHealthProbe,
  redisProbe,
  backupProbe,
], {
  error: (iss) =>
    iss.code === 'invalid_union' && 'discriminator' in iss
      ? `expected a probe type: http, compose_ps, compose_logs, pg_ready, pg_connections, pg_long_queries, pg_query, push, host, pg_health, redis, backup, got ${describe((iss.input as { type?: unknown } | undefined)?.type)}`
      : undefined,
});

/**
 * Why a `host_key_sha256` value is not a real fingerprint, or null when it is one. A SHA-256 digest in
 * base64 is 43 characters of noise; a placeholder left from an example config has words in it.
 */
export function fingerprintProblem(pin: string): string | null {
  if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(pin)) return `expected a fingerprint like "SHA256:" and 43 base64 characters as ssh-keygen -lf prints it, got ${describe(pin)}`;
  if (/REPLACE|CHANGE0?ME|FILL0?ME|EXAMPLE|PLACEHOLDER|keyscan|XXXXXX/i.test(pin)) return `${describe(pin)} is a placeholder, not a real host key fingerprint`;
  return null;
}

/** The command that prints a host's public key line as host_key takes it. */
function keyscan(address: string, port: number): string {
  return `ssh-keyscan ${port === 22 ? '' : `-p ${port} `}-t ed25519 ${address}`;
}

/** The command that prints a host's SHA-256 fingerprint as host_key_sha256 takes it. */
export function keyscanLine(address: string, port: number): string {
  return `${keyscan(address, port)} | ssh-keygen -lf -`;
}

// ── the rest of the file ──────────────────────────────────────────────────────────────────────
const hostSchema = z.strictObject({
  environment: name,
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  private_key_file: z.string().optional(),
  private_key_env: envVar.optional(),
  passphrase_env: envVar.optional(),
  host_key: z.string().optional(),
  host_key_sha256: z.string().optional(),
  compose_dir: z.string().min(1),
  docker: z.string().regex(/\S/, { error: 'expected the command that runs docker, like "docker" or "sudo docker"' }).default('docker'),
  unreachable_severity: severity.default('S2'),
}).superRefine((h, ctx) => {
  if (h.host_key === undefined && h.host_key_sha256 === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `missing required key "host_key" or "host_key_sha256": vigil pins every host key and never trusts one on first use; get it from a trusted network with: ${keyscanLine(h.address, h.port)}`,
    });
  }
  oneOf('host_key', 'host_key_sha256', false)(h, ctx);
  if (h.host_key !== undefined && parseHostKeyLine(h.host_key) === null) {
    const fingerprint = /^\s*SHA256:/.test(h.host_key);
    ctx.addIssue({
      code: 'custom',
      path: ['host_key'],
      message: fingerprint
        ? `${describe(h.host_key)} is a fingerprint: write it as host_key_sha256, or put the key line here`
        : `expected a public key line like "ssh-ed25519 AAAAC3Nz…" (or a known_hosts line), got ${describe(h.host_key)}; get the real one from a trusted network with: ${keyscan(h.address, h.port)}`,
    });
  }
  const pinProblem = h.host_key_sha256 === undefined ? null : fingerprintProblem(h.host_key_sha256);
  if (pinProblem) {
    ctx.addIssue({
      code: 'custom',
      path: ['host_key_sha256'],
      message: `${pinProblem}; get the real one from a trusted network with: ${keyscanLine(h.address, h.port)}`,
    });
  }
  oneOf('private_key_file', 'private_key_env', true)(h, ctx);
});

const databaseSchema = z.strictObject({
  environment: name,
  url_env: envVar.optional(),
  url_file: z.string().optional(),
  via: z.string().optional(),
  service: name.default('db'),
  impact_query: z.string().optional(),
}).superRefine(oneOf('url_env', 'url_file', true));

const maintenanceSchema = z
  .strictObject({
    environment: name.optional(),
    service: name.optional(),
    cron: cron.optional(),
    duration: period.optional(),
    start: z.iso.datetime({ offset: true }).optional(),
    end: z.iso.datetime({ offset: true }).optional(),
    reason: z.string().optional(),
  })
  .refine((m) => (m.cron !== undefined && m.duration !== undefined) !== (m.start !== undefined && m.end !== undefined), {
    error: 'expected either "cron" with "duration", or "start" with "end"',
  });

const webhookKeys = { url_env: envVar.optional(), url_file: z.string().optional() };
const webhook = z.strictObject(webhookKeys).superRefine(oneOf('url_env', 'url_file', true));
/** A Discord snowflake: the id Discord shows with "Copy Role ID" (17 to 20 digits). */
const snowflake = z.string({ error: (iss) => `expected a Discord role id like "112233445566778899" (quoted), got ${describe(iss.input)}` }).regex(/^\d{17,20}$/, {
  error: (iss) => `expected a Discord role id like "112233445566778899" (17 to 20 digits, quoted), got ${describe(iss.input)}`,
});
/** #ops may also ping a role on the S1/S2 lines that need a human now. */
const opsWebhook = z
  .strictObject({ ...webhookKeys, mention_role: snowflake.optional() })
  .superRefine(oneOf('url_env', 'url_file', true));

/** How Better Stack reaches the on-call person for one severity; every flag off unless set. */
const oncallFlags = z.strictObject({
  call: z.boolean().default(false),
  sms: z.boolean().default(false),
  push: z.boolean().default(false),
  email: z.boolean().default(false),
  critical_alert: z.boolean().default(false),
});
/** Better Stack Uptime incidents for S1/S2: a phone call, SMS or push to whoever is on call. */
const oncallSchema = z
  .strictObject({
    api_token_env: envVar.optional(),
    api_token_file: z.string().optional(),
    api_url: z.url({ protocol: /^https?$/ }).default('https://uptime.betterstack.com'),
    requester_email: z.email({ error: (iss) => `expected an email address like "vigil@example.com", got ${describe(iss.input)}` }),
    severities: z
      .strictObject({ S1: oncallFlags.optional(), S2: oncallFlags.optional() })
      .default({
        S1: { call: true, sms: true, push: true, email: true, critical_alert: true },
        S2: { call: false, sms: false, push: true, email: true, critical_alert: false },
      }),
    policy_id: z.string().regex(/^\d+$/, { error: (iss) => `expected a Better Stack escalation policy id like "12345" (quoted), got ${describe(iss.input)}` }).optional(),
    team_wait: duration.optional(),
    sync_interval: period.prefault('30s'),
  })
  .superRefine(oneOf('api_token_env', 'api_token_file', true));

/** Many replicas on one PostgreSQL store: one leads (runs the engine and the outbox), all probe. */
const clusterSchema = z.strictObject({
  replica: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: (iss) => `expected a replica name like "vigil-a" (letters, digits, "-", "_", "."), got ${describe(iss.input)}` })
    .optional(),
  quorum: z.union([z.literal(1), z.literal('majority'), z.literal('all')], { error: (iss) => `expected 1, "majority" or "all", got ${describe(iss.input)}` }).default('majority'),
  mode: z.enum(['replicate', 'shard'], { error: (iss) => `expected "replicate" or "shard", got ${describe(iss.input)}` }).default('replicate'),
  interval: period.prefault('5s'),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      listen: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i, { error: (iss) => `expected host:port like "127.0.0.1:9477", got ${describe(iss.input)}`, abort: true })
        .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65535, { error: 'expected a port from 0 to 65535' })
        .default('127.0.0.1:9477'),
      public_url: z.url({ protocol: /^https?$/ }).optional(),
      api_token_env: envVar.optional(),
      api_token_file: z.string().optional(),
      action_secret_env: envVar.optional(),
      action_secret_file: z.string().optional(),
    })
    .superRefine(oneOf('api_token_env', 'api_token_file', false))
    .superRefine(oneOf('action_secret_env', 'action_secret_file', false))
    .prefault({}),
  store: z
    .strictObject({
      path: z.string().min(1).default('data/vigil.db'),
      postgres: z.strictObject({ url_env: envVar }).optional(),
      retention: period.prefault('90d'),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      interval: period.prefault('30s'),
      timeout: period.prefault('10s'),
      failure_threshold: positiveInt.default(2),
      success_threshold: positiveInt.default(2),
      concurrency: positiveInt.default(64),
    })
    .prefault({}),
  environments: z.record(name, z.strictObject({ severity_cap: severity.optional() })),
  hosts: z.record(name, hostSchema).default({}),
  databases: z.record(name, databaseSchema).default({}),
  maintenance: z.array(maintenanceSchema).default([]),
  alerts: z
    .strictObject({
      discord: z
        .strictObject({ errors: webhook.optional(), warnings: webhook.optional(), ops: opsWebhook.optional() })
        .optional(),
      betterstack: z
        .strictObject({
          source_token_env: envVar.optional(),
          source_token_file: z.string().optional(),
          endpoint: z.url().default('https://in.logs.betterstack.com'),
          heartbeat_url_env: envVar.optional(),
          heartbeat_interval: period.prefault('1m'),
          oncall: oncallSchema.optional(),
        })
        .superRefine(oneOf('source_token_env', 'source_token_file', false))
        .optional(),
      /** An outbox message still undelivered this long after it was written is given up (dead letter). */
      max_age: period.prefault('24h'),
    })
    .prefault({}),
  probes: z.array(probeSchema).default([]),
  cluster: clusterSchema.optional(),
});

export type RawConfig = z.output<typeof configSchema>;
export type ProbeConfig = z.output<typeof probeSchema>;
export type HttpProbeConfig = z.output<typeof httpProbe>;
export type RedisProbeConfig = z.output<typeof redisProbe>;
export type BackupProbeConfig = z.output<typeof backupProbe>;
export type HostConfig = z.output<typeof hostSchema>;
export type DatabaseConfig = z.output<typeof databaseSchema>;
export type EscalateRule = z.output<typeof escalateRule>;
export type MaintenanceConfig = z.output<typeof maintenanceSchema>;
export type OncallFlags = z.output<typeof oncallFlags>;
export type ClusterSettings = z.output<typeof clusterSchema>;
export type PushProbeConfig = z.output<typeof pushProbe>;
export type HostProbeConfig = z.output<typeof hostProbe>;
export type PgHealthProbeConfig = z.output<typeof pgHealthProbe>;
