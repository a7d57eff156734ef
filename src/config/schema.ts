// The config's shape, defaults and value rules (zod); cross-references are checked in load.ts.
import ms from 'ms';
import { z } from 'zod';
import { SEVERITIES } from '../types.js';

/** Parses "250ms", "30s", "5m", "1h", "7d" with `ms`; anything else is a config error. */
export function parseDuration(text: string): number | undefined {
  if (!/^\s*\d+(\.\d+)?\s*[a-z]+\s*$/i.test(text)) return undefined;
  const value = ms(text as ms.StringValue);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

const duration = z
  .string({ error: (iss) => `expected a duration like "30s", got ${describe(iss.input)}` })
  .transform((text, ctx) => {
    const value = parseDuration(text);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return value;
  });

export function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return JSON.stringify(input);
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
const ratio = z.number().gt(0).lte(1);

/** A secret: read from the environment or a file, never written in the config itself. */
const secretRef = z.strictObject({ value_env: envVar.optional(), value_file: z.string().optional() });

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
  interval: duration.optional(),
  schedule: z.string().optional(),
  timeout: duration.optional(),
  failure_threshold: positiveInt.optional(),
  success_threshold: positiveInt.optional(),
  depends_on: z.array(z.string()).default([]),
  enabled: z.boolean().default(true),
  escalate: z.union([escalateRule, z.array(escalateRule)]).optional(),
};

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
    })
    .default({}),
  follow_redirects: z.number().int().min(0).max(10).default(3),
  tls_expiry: z
    .union([z.literal(false), z.strictObject({ warn: duration.default(21 * 86_400_000), critical: duration.default(7 * 86_400_000) })])
    .default({ warn: 21 * 86_400_000, critical: 7 * 86_400_000 }),
});

export const composePsProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('compose_ps'),
  host: z.string(),
  services: z.record(z.string(), severity),
});

export const composeLogsProbe = z.strictObject({
  ...probeCommon,
  type: z.literal('compose_logs'),
  host: z.string(),
  service: z.string(),
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
  window: duration.default(5 * 60_000),
  threshold: positiveInt.default(1),
});

const dbProbe = { ...probeCommon, database: z.string() };
export const pgReadyProbe = z.strictObject({ ...dbProbe, type: z.literal('pg_ready') });
export const pgConnectionsProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_connections'),
  warn: ratio.default(0.8),
  critical: ratio.default(0.95),
});
export const pgLongQueriesProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_long_queries'),
  older_than: duration.default(60_000),
});
export const pgQueryProbe = z.strictObject({
  ...dbProbe,
  type: z.literal('pg_query'),
  sql: z.string().min(1),
  warn: z.number().optional(),
  critical: z.number().optional(),
  direction: z.enum(['above', 'below']).default('above'),
});

export const probeSchema = z.discriminatedUnion('type', [
  httpProbe,
  composePsProbe,
  composeLogsProbe,
  pgReadyProbe,
  pgConnectionsProbe,
  pgLongQueriesProbe,
  pgQueryProbe,
], {
  error: (iss) =>
    iss.code === 'invalid_union' && 'discriminator' in iss
      ? `expected a probe type: http, compose_ps, compose_logs, pg_ready, pg_connections, pg_long_queries, pg_query, got ${describe((iss.input as { type?: unknown } | undefined)?.type)}`
      : undefined,
});

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
  host_key_sha256: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: 'expected a fingerprint like "SHA256:…" as ssh-keygen -lf prints it' }).optional(),
  compose_dir: z.string().min(1),
  docker: z.string().default('docker'),
  unreachable_severity: severity.default('S2'),
});

const databaseSchema = z.strictObject({
  environment: name,
  url_env: envVar.optional(),
  url_file: z.string().optional(),
  via: z.string().optional(),
  service: name.default('db'),
  impact_query: z.string().optional(),
});

const maintenanceSchema = z
  .strictObject({
    environment: name.optional(),
    service: name.optional(),
    cron: z.string().optional(),
    duration: duration.optional(),
    start: z.iso.datetime({ offset: true }).optional(),
    end: z.iso.datetime({ offset: true }).optional(),
    reason: z.string().optional(),
  })
  .refine((m) => (m.cron !== undefined && m.duration !== undefined) !== (m.start !== undefined && m.end !== undefined), {
    error: 'expected either "cron" with "duration", or "start" with "end"',
  });

const webhook = z.strictObject({ url_env: envVar.optional(), url_file: z.string().optional() });

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      listen: z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i, { error: 'expected host:port like "127.0.0.1:9477"' }).default('127.0.0.1:9477'),
      public_url: z.url({ protocol: /^https?$/ }).optional(),
      api_token_env: envVar.optional(),
      api_token_file: z.string().optional(),
    })
    .default({ listen: '127.0.0.1:9477' }),
  store: z
    .strictObject({ path: z.string().min(1).default('data/vigil.db'), retention: duration.default(90 * 86_400_000) })
    .default({ path: 'data/vigil.db', retention: 90 * 86_400_000 }),
  defaults: z
    .strictObject({
      interval: duration.default(30_000),
      timeout: duration.default(10_000),
      failure_threshold: positiveInt.default(2),
      success_threshold: positiveInt.default(2),
      concurrency: positiveInt.default(64),
    })
    .default({ interval: 30_000, timeout: 10_000, failure_threshold: 2, success_threshold: 2, concurrency: 64 }),
  environments: z.record(name, z.strictObject({ severity_cap: severity.optional() })),
  hosts: z.record(name, hostSchema).default({}),
  databases: z.record(name, databaseSchema).default({}),
  maintenance: z.array(maintenanceSchema).default([]),
  alerts: z
    .strictObject({
      discord: z
        .strictObject({ errors: webhook.optional(), warnings: webhook.optional(), ops: webhook.optional() })
        .optional(),
      betterstack: z
        .strictObject({
          source_token_env: envVar.optional(),
          source_token_file: z.string().optional(),
          endpoint: z.url().default('https://in.logs.betterstack.com'),
          heartbeat_url_env: envVar.optional(),
          heartbeat_interval: duration.default(60_000),
        })
        .optional(),
    })
    .default({}),
  probes: z.array(probeSchema).default([]),
});

export type RawConfig = z.output<typeof configSchema>;
export type ProbeConfig = z.output<typeof probeSchema>;
export type HttpProbeConfig = z.output<typeof httpProbe>;
export type HostConfig = z.output<typeof hostSchema>;
export type DatabaseConfig = z.output<typeof databaseSchema>;
export type EscalateRule = z.output<typeof escalateRule>;
export type MaintenanceConfig = z.output<typeof maintenanceSchema>;
