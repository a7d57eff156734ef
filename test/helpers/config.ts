// testConfig(overrides): a loaded-looking Config built by hand, with a few http probes, for tests that need one;
// refusal(fn): the ConfigError a load throws.
import { ConfigError } from '../../src/config/errors.js';
import type { Config, ResolvedProbe } from '../../src/config/types.js';
import { httpProbe } from '../../src/config/schema.js';
import type { Severity } from '../../src/types.js';

export interface TestProbeOptions {
  id: string;
  environment?: string;
  service?: string;
  severity?: Severity;
  summary?: string;
  url?: string;
  dependsOn?: string[];
  enabled?: boolean;
  /** Resolved header values; those named in `secretHeaders` are treated as coming from `value_env`. */
  headers?: Record<string, string>;
  secretHeaders?: string[];
}

/** An http probe as the loader would resolve it (defaults applied through the real schema). */
export function httpTestProbe(opts: TestProbeOptions): ResolvedProbe {
  const headers = opts.headers ?? {};
  const secret = new Set(opts.secretHeaders ?? []);
  const spec = httpProbe.parse({
    id: opts.id,
    type: 'http',
    url: opts.url ?? `http://127.0.0.1:9/${opts.id}`,
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, secret.has(name) ? { value_env: 'TEST_SECRET_HEADER' } : value]),
    ),
  });
  return {
    id: opts.id,
    type: 'http',
    environment: opts.environment ?? 'production',
    service: opts.service ?? 'backend',
    severity: opts.severity ?? 'S2',
    summary: opts.summary ?? `${opts.id} failing`,
    intervalMs: 30_000,
    schedule: null,
    timeoutMs: 10_000,
    failureThreshold: 2,
    successThreshold: 2,
    dependsOn: opts.dependsOn ?? [],
    implicitDeps: [],
    enabled: opts.enabled ?? true,
    escalate: [],
    spec,
    headers,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * production (no cap) and staging (capped at S3); probes backend-health (S1), compute-health (S2)
 * in production and staging-backend-health in staging. Overrides replace top-level sections whole.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const config: Config = {
    file: 'test/config.yaml',
    server: { listen: '127.0.0.1:0', host: '127.0.0.1', port: 0, publicUrl: null, apiToken: null, actionSecret: null },
    store: { path: ':memory:', retentionMs: 90 * 86_400_000 },
    defaults: { intervalMs: 30_000, timeoutMs: 10_000, failureThreshold: 2, successThreshold: 2, concurrency: 64 },
    environments: { production: { severityCap: null }, staging: { severityCap: 'S3' } },
    hosts: {},
    databases: {},
    maintenance: [],
    alerts: { discord: { errors: null, warnings: null, ops: null }, betterstack: null, maxAgeMs: 24 * 3_600_000 },
    probes: [
      httpTestProbe({ id: 'backend-health', service: 'backend', severity: 'S1', summary: 'Backend API down' }),
      httpTestProbe({ id: 'compute-health', service: 'compute', severity: 'S2', summary: 'Compute API down' }),
      httpTestProbe({ id: 'staging-backend-health', environment: 'staging', service: 'backend', severity: 'S2', summary: 'Staging backend down' }),
    ],
    ...overrides,
  };
  return deepFreeze(config);
}

/** The same config with an API token, so write endpoints accept `Authorization: Bearer <token>`. */
export function withApiToken(config: Config, apiToken: string | null): Config {
  return deepFreeze({ ...config, server: { ...config.server, apiToken } });
}

/** The ConfigError `fn` throws; anything else it throws is rethrown, and returning is a failure. */
export function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, the config loaded');
}
