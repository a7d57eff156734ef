// The loader on real files: the shipped configs load, defaults and inheritance apply, secrets resolve, the result is frozen.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { ConfigError } from '../../src/config/errors.js';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { refusal } from '../helpers/config.js';
import { isRoot, runAsNobody } from '../helpers/unprivileged.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const SARTIQ_ENV: NodeJS.ProcessEnv = {
  VIGIL_API_TOKEN: 'api-token-1111',
  PROD_BACKEND_DB_URL: 'postgres://vigil:pw-3333@127.0.0.1:5432/app',
  PROD_COMPUTE_DB_URL: 'postgres://vigil:pw-4444@127.0.0.1:5432/app',
  STAGING_BACKEND_DB_URL: 'postgres://vigil:pw-5555@127.0.0.1:5432/app',
  STAGING_COMPUTE_DB_URL: 'postgres://vigil:pw-6666@127.0.0.1:5432/app',
  DISCORD_WEBHOOK_ERRORS: 'https://discord.com/api/webhooks/1/errors-7777',
  DISCORD_WEBHOOK_WARNINGS: 'https://discord.com/api/webhooks/2/warnings-8888',
  DISCORD_WEBHOOK_OPS: 'https://discord.com/api/webhooks/3/ops-9999',
  BETTERSTACK_SOURCE_TOKEN: 'bs-token-aaaa',
  BETTERSTACK_HEARTBEAT_URL: 'https://uptime.betterstack.com/api/v1/heartbeat/bbbb',
  PROD_BACKEND_REDIS_URL: 'redis://:r-1@127.0.0.1:6379/0',
  PROD_COMPUTE_REDIS_URL: 'redis://:r-2@127.0.0.1:6379/0',
  STAGING_BACKEND_REDIS_URL: 'redis://:r-3@127.0.0.1:6379/0',
  STAGING_COMPUTE_REDIS_URL: 'redis://:r-4@127.0.0.1:6379/0',
  R2_ENDPOINT: 'https://account.r2.cloudflarestorage.com',
  R2_ACCESS_KEY_ID: 'r2-key-id',
  R2_SECRET_ACCESS_KEY: 'r2-secret-cccc',
};

function tempDir(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('probes/local.yaml loads with no secrets at all', async (t) => {
  const config = loadConfig(path.join(root, 'probes/local.yaml'), {});
  t.same(Object.keys(config.environments), ['local']);
  t.equal(config.store.path, 'data/vigil.db');
  t.same([config.server.host, config.server.port], ['127.0.0.1', 9477]);
  const health = config.probes.find((p) => p.id === 'vigil-health');
  t.ok(health, 'vigil watches its own /healthz');
  t.equal(health?.spec.type === 'http' && health.spec.url, 'http://127.0.0.1:9477/healthz');
  for (const p of config.probes) {
    t.equal(p.environment, 'local');
    t.equal(p.intervalMs, 10_000, `${p.id} runs every 10s`);
  }
  t.ok(config.probes.some((p) => p.spec.type === 'http' && (p.spec.expect.json !== undefined || p.spec.expect.body_contains !== undefined)));
});

/** probes/sartiq.yaml with its placeholder host-key pins replaced, as an operator does first. */
function pinnedSartiq(): string {
  let n = 0;
  return readFileSync(path.join(root, 'probes/sartiq.yaml'), 'utf8').replace(
    /SHA256:REPLACE0ME[A-Za-z0-9]+/g,
    () => `SHA256:${createHash('sha256').update(`host ${n++}`).digest('base64').replace(/=+$/, '')}`,
  );
}

t.test('probes/sartiq.yaml refuses its placeholder host-key pins, naming the command that gets each one', async (t) => {
  const err = refusal(() => loadConfig(path.join(root, 'probes/sartiq.yaml'), SARTIQ_ENV));
  const pins = err.problems.filter((p) => p.path.endsWith('.host_key_sha256'));
  t.same(
    pins.map((p) => p.path),
    ['hosts.prod-backend.host_key_sha256', 'hosts.prod-compute.host_key_sha256', 'hosts.staging-backend.host_key_sha256', 'hosts.staging-compute.host_key_sha256'],
    'each of the four pins',
  );
  t.match(pins[0]!.message, /is a placeholder, not a real host key fingerprint; get the real one from a trusted network with: ssh-keyscan -t ed25519 10\.0\.0\.2 \| ssh-keygen -lf -$/);
});

t.test('a host-key pin that is not a fingerprint is refused with the keyscan line for that host and port', async (t) => {
  const yaml = (pin: string) => `environments: { production: {} }
hosts:
  h: { environment: production, address: 192.0.2.7, port: 2222, user: u, private_key_file: key.pem, host_key_sha256: "${pin}", compose_dir: /srv }
`;
  const short = refusal(() => loadConfigText(yaml('SHA256:abc'), 'x.yaml', {}));
  const pinProblem = (err: ConfigError) => err.problems.find((p) => p.path === 'hosts.h.host_key_sha256')?.message;
  t.match(pinProblem(short), /expected a fingerprint like "SHA256:" and 43 base64 characters.*ssh-keyscan -p 2222 -t ed25519 192\.0\.2\.7 \| ssh-keygen -lf -/);
  const placeholder = refusal(() => loadConfigText(yaml('SHA256:CHANGEME00000000000000000000000000000000000'), 'x.yaml', {}));
  t.match(pinProblem(placeholder), /placeholder/);
});

const SARTIQ_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nssh-key-2222\n-----END OPENSSH PRIVATE KEY-----\n';
/** The key file the deploy recipes provide (test/deploy/recipes.test.ts runs them for real), here in a temp dir. */
const SARTIQ_KEY_PATH = '/run/credentials/vigil.service/ssh_key';

t.test('probes/sartiq.yaml loads the real fleet with its secrets', async (t) => {
  const keyFile = path.join(tempDir(t), 'ssh_key');
  writeFileSync(keyFile, SARTIQ_KEY);
  const text = pinnedSartiq();
  t.ok(text.includes(`private_key_file: ${SARTIQ_KEY_PATH}`), 'the key comes from the file the recipes provide');
  const config = loadConfigText(text.replaceAll(SARTIQ_KEY_PATH, keyFile), path.join(root, 'probes/sartiq.yaml'), SARTIQ_ENV);
  t.same(config.environments, { production: { severityCap: null }, staging: { severityCap: 'S3' }, dev: { severityCap: 'S4' } });
  t.same(Object.keys(config.hosts).sort(), ['prod-backend', 'prod-compute', 'staging-backend', 'staging-compute']);
  t.equal(config.hosts['prod-backend']?.address, '10.0.0.2');
  t.equal(config.hosts['staging-compute']?.address, '10.0.1.4');
  t.equal(config.hosts['prod-backend']?.privateKey, SARTIQ_KEY);
  t.equal(config.hosts['prod-backend']?.port, 22, 'port defaults to 22');
  t.equal(config.databases['prod-backend-db']?.url, SARTIQ_ENV.PROD_BACKEND_DB_URL);
  t.equal(config.server.apiToken, SARTIQ_ENV.VIGIL_API_TOKEN);
  t.same(config.alerts.discord, {
    errors: SARTIQ_ENV.DISCORD_WEBHOOK_ERRORS,
    warnings: SARTIQ_ENV.DISCORD_WEBHOOK_WARNINGS,
    ops: SARTIQ_ENV.DISCORD_WEBHOOK_OPS,
    mentionRole: null,
  });
  t.equal(config.alerts.betterstack?.sourceToken, SARTIQ_ENV.BETTERSTACK_SOURCE_TOKEN);
  t.equal(config.alerts.betterstack?.heartbeatUrl, SARTIQ_ENV.BETTERSTACK_HEARTBEAT_URL);

  const byId = new Map(config.probes.map((p) => [p.id, p]));
  const dbReady = byId.get('prod-backend-db-ready');
  t.match(dbReady, { environment: 'production', service: 'db', severity: 'S1', implicitDeps: ['host:prod-backend'] });
  t.same(byId.get('prod-backend-health')?.dependsOn, ['prod-backend-db-ready']);
  t.match(byId.get('prod-backend-ps'), { service: 'prod-backend', severity: 'S2', implicitDeps: ['host:prod-backend'] });
  t.match(byId.get('prod-backend-errors'), { service: 'backend', severity: 'S3', intervalMs: 60_000 });
  t.match(byId.get('prod-backend-db-connections'), { severity: 'S3', spec: { warn: 0.8 } });
  t.same(byId.get('prod-backend-db-long-queries')?.escalate, [{ count: 5, severity: 'S2' }]);
  t.match(byId.get('prod-task-queue'), { type: 'pg_query', spec: { warn: 1000 } });
  // What a health endpoint does not show: the queue, disks and memory, database integrity, backups, p99, error rate.
  for (const vm of ['backend', 'compute']) {
    t.match(byId.get(`prod-${vm}-redis`), { type: 'redis', environment: 'production', implicitDeps: [`host:prod-${vm}`], spec: { queues: [{ key: 'celery', pending_above: 1000, summary: 'Generation pipeline stuck' }] } });
    t.match(byId.get(`prod-${vm}-db-health`), { type: 'pg_health', severity: 'S1' });
    t.match(byId.get(`prod-${vm}-errors`), { spec: { error_rate: { above: 0.05, window: 300_000 } } });
    t.match(byId.get(`prod-${vm}-health`), { spec: { expect: { p99_latency: { above: 10_000, window: 300_000 } } } });
  }
  t.same(
    config.probes.filter((p) => p.type === 'host').map((p) => p.spec.type === 'host' && p.spec.host).sort(),
    ['prod-backend', 'prod-compute', 'staging-backend', 'staging-compute'],
    'disks and memory of the four VMs',
  );
  const backups = config.probes.filter((p) => p.spec.type === 'backup');
  t.same(
    backups.map((p) => (p.spec.type === 'backup' ? `${p.environment} ${p.spec.bucket}/${p.spec.prefix} ${p.spec.schedule}` : '')).sort(),
    [
      'dev sartiq-snapshots/snapshots/backend/dev/ 0 0 * * *',
      'dev sartiq-snapshots/snapshots/compute-server/dev/ 0 0 * * *',
      'production sartiq-snapshots/snapshots/backend/production/ 0 0,6,9,12,15,18,21 * * *',
      'production sartiq-snapshots/snapshots/compute-server/production/ 0 0,6,9,12,15,18,21 * * *',
      'staging sartiq-snapshots/snapshots/backend/staging/ 0 0 * * *',
      'staging sartiq-snapshots/snapshots/compute-server/staging/ 0 0 * * *',
    ],
    'backend and compute backups in every environment, on their real schedules',
  );
  t.equal(backups[0]?.severity, 'S1');
  t.equal(byId.get('staging-backend-db-ready')?.environment, 'staging', 'inherited from the database');
  for (const env of ['production', 'staging']) {
    for (const service of ['backend', 'compute', 'webapp']) {
      t.ok(config.probes.some((p) => p.type === 'http' && p.environment === env && p.service === service), `${env} ${service} health check`);
    }
  }
});

t.test('defaults, inheritance and file secrets on a small config', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'secrets'));
  writeFileSync(path.join(dir, 'secrets/key.pem'), 'KEY-CONTENT\n');
  writeFileSync(path.join(dir, 'secrets/db-url'), 'postgres://vigil:from-file@127.0.0.1/app\n');
  const config = loadConfigText(
    `
server: { listen: "[::1]:9500" }
defaults: { interval: 20s, timeout: 15s, failure_threshold: 3 }
environments: { production: {}, staging: { severity_cap: S3 } }
hosts:
  backend:
    environment: staging
    address: 10.0.1.3
    user: ubuntu
    private_key_file: secrets/key.pem
    host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDUTzbxSJVw03LMLAkBSEfXDcQ7sD4LzV7c8pXrv6w4t"
    compose_dir: /srv/app
databases:
  app-db: { environment: production, url_file: secrets/db-url, via: backend, service: postgres }
probes:
  - { id: api, type: http, environment: production, url: "https://api.example.com/", headers: { X-Token: { value_env: API_HEADER } }, interval: 5s }
  - { id: ps, type: compose_ps, host: backend, services: { api: S1 } }
  - { id: logs, type: compose_logs, host: backend, service: api, pattern: ERROR }
  - { id: db-ready, type: pg_ready, database: app-db, escalate: { after: 10m, severity: S1 } }
  - { id: nightly, type: pg_query, database: app-db, sql: "SELECT 1", warn: 1, schedule: "0 3 * * *", depends_on: [db-ready] }
`,
    'inline.yaml',
    { API_HEADER: 'header-secret' },
    dir,
  );
  t.same([config.server.host, config.server.port], ['::1', 9500]);
  t.equal(config.hosts.backend?.privateKey, 'KEY-CONTENT\n', 'a key file keeps its bytes');
  t.equal(config.hosts.backend?.passphrase, null);
  t.equal(config.databases['app-db']?.url, 'postgres://vigil:from-file@127.0.0.1/app', 'a URL file loses its newline');
  const [api, ps, logs, dbReady, nightly] = config.probes;
  t.match(api, { service: 'api', severity: 'S2', intervalMs: 5000, timeoutMs: 5000, failureThreshold: 3, successThreshold: 2, summary: 'HTTP check api failing' });
  t.same(api?.headers, { 'X-Token': 'header-secret' });
  t.same(api?.implicitDeps, []);
  t.match(ps, { environment: 'staging', service: 'backend', intervalMs: 20_000, timeoutMs: 15_000, implicitDeps: ['host:backend'] });
  t.match(logs, { service: 'api', severity: 'S3', summary: 'Errors in api logs', implicitDeps: ['host:backend'] });
  t.match(dbReady, { environment: 'production', service: 'postgres', summary: 'App-db unreachable', implicitDeps: ['host:backend'] });
  t.same(dbReady?.escalate, [{ after: 600_000, severity: 'S1' }], 'a single escalate rule becomes a list');
  t.match(nightly, { schedule: '0 3 * * *', severity: 'S3', dependsOn: ['db-ready'] });
});

t.test('the loaded config is deeply frozen', async (t) => {
  const config = loadConfig(path.join(root, 'probes/local.yaml'), {});
  const probe = config.probes[0];
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.probes) && Object.isFrozen(probe));
  t.ok(probe && Object.isFrozen(probe.spec) && Object.isFrozen(probe.dependsOn));
  t.throws(() => {
    (config.server as { port: number }).port = 1;
  }, TypeError);
  t.throws(() => {
    (config.probes as unknown[]).push({});
  }, TypeError);
});

t.test('a missing or empty environment variable is reported at its key', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `environments: { production: {} }
databases:
  main:
    environment: production
    url_env: PROD_DB_URL
alerts:
  discord:
    ops: { url_env: DISCORD_OPS }
`,
  );
  const err = refusal(() => loadConfig(file, { DISCORD_OPS: '' }));
  t.equal(err.code, 'VIGIL_ERR_CONFIG');
  t.same(err.problems, [
    { file, line: 5, col: 5, path: 'databases.main.url_env', message: 'environment variable PROD_DB_URL is not set' },
    { file, line: 8, col: 12, path: 'alerts.discord.ops.url_env', message: 'environment variable DISCORD_OPS is empty' },
  ]);
  t.equal(err.message.split('\n')[0], `${file}:5:5 databases.main.url_env: environment variable PROD_DB_URL is not set`);
});

t.test('an unreadable secret file is reported with the OS reason, relative to the config file', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'conf'));
  mkdirSync(path.join(dir, 'conf/a-directory'));
  const file = path.join(dir, 'conf/vigil.yaml');
  writeFileSync(
    file,
    `environments: { production: {} }
server: { api_token_file: a-directory }
databases:
  main: { environment: production, url_file: ./nowhere/db-url }
`,
  );
  const err = refusal(() => loadConfig(file, {}));
  t.same(
    err.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`),
    [
      '2:11 server.api_token_file: cannot read "a-directory": EISDIR: illegal operation on a directory, read',
      '4:36 databases.main.url_file: cannot read "./nowhere/db-url": ENOENT: no such file or directory',
    ],
  );
});

t.test('an unreadable config file is a ConfigError, not a crash', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'nope.yaml');
  const err = refusal(() => loadConfig(missing, {}));
  t.equal(err.message, `${missing}:1:1 cannot read the config file: ENOENT: no such file or directory`);
  const locked = path.join(dir, 'locked.yaml');
  writeFileSync(locked, 'environments: {}\n');
  chmodSync(locked, 0o000);
  const expected = `${locked}:1:1 cannot read the config file: EACCES: permission denied`;
  if (!isRoot) {
    t.equal(refusal(() => loadConfig(locked, {})).message, expected);
    return;
  }
  // root reads any file, so the refusal is only seen by an ordinary user: ask a child running as nobody.
  chmodSync(dir, 0o755);
  const script = `import { loadConfig } from ${JSON.stringify(new URL('../../src/config/load.js', import.meta.url).href)};
    try { loadConfig(process.env.VIGIL_TEST_CONFIG, {}); console.log('loaded'); }
    catch (err) { console.log(err.constructor.name + ' ' + err.message); }`;
  t.equal(runAsNobody(script, { VIGIL_TEST_CONFIG: locked }), `ConfigError ${expected}`, 'refused as an unprivileged user');
});

t.test('a missing secret never prints another secret, nor a secret file content', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'key.pem'), 'PRIVATE-KEY-CONTENT-zzzz');
  const text = `
server: { api_token_env: API_TOKEN }
environments: { production: {} }
hosts:
  h: { environment: production, address: x, user: u, private_key_file: key.pem, passphrase_env: KEY_PASS, host_key_sha256: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", compose_dir: /srv }
databases:
  main: { environment: production, url_env: DB_URL }
alerts:
  discord: { errors: { url_env: HOOK_ERRORS }, ops: { url_env: HOOK_OPS } }
  betterstack: { source_token_env: BS_TOKEN }
probes:
  - { id: api, type: http, environment: production, url: "https://x.example/", headers: { Authorization: { value_env: AUTH_HEADER } } }
`;
  const env = {
    API_TOKEN: 'secret-api-token-0001',
    KEY_PASS: 'secret-passphrase-0002',
    DB_URL: 'postgres://vigil:secret-db-0003@db/app',
    HOOK_ERRORS: 'https://discord.example/api/webhooks/1/secret-hook-0004',
    BS_TOKEN: 'secret-bs-0005',
    AUTH_HEADER: 'Bearer secret-header-0006',
  };
  const err = refusal(() => loadConfigText(text, 'inline.yaml', env, dir));
  t.same(err.problems.map((p) => p.message), ['environment variable HOOK_OPS is not set']);
  for (const secret of [...Object.values(env), 'PRIVATE-KEY-CONTENT-zzzz']) {
    t.notOk(err.message.includes(secret), 'no secret value in the message');
    t.notOk(JSON.stringify(err.problems).includes(secret), 'no secret value in the problems');
  }
});

t.test('problems are sorted by position and formatted one per line', async (t) => {
  const err = refusal(() =>
    loadConfigText(
      `probes:
  - { id: b, type: http, environment: nowhere, url: "https://b.example/", interval: soon }
environments: { production: {} }
bogus: 1
`,
      'sorted.yaml',
      {},
    ),
  );
  t.same(err.message.split('\n'), [
    'sorted.yaml:2:26 probes[0].environment: unknown environment "nowhere"',
    'sorted.yaml:2:75 probes[0].interval: expected a duration like "30s", got "soon"',
    'sorted.yaml:4:1 bogus: unknown key "bogus"',
  ]);
});

t.test("a backup probe's schedule is the backups' cron: the probe itself runs on its interval; its secrets resolve by stem", async (t) => {
  const config = loadConfigText(
    `environments: { production: {} }\nprobes:\n  - { id: backups, type: backup, environment: production, endpoint_env: E, access_key_id_env: K, secret_access_key_env: S, bucket: sartiq-snapshots, prefix: snapshots/backend/production/, schedule: "0 0,6,9,12,15,18,21 * * *", interval: 5m, timeout: 20s }\n`,
    'backup.yaml',
    { E: 'https://acct.r2.cloudflarestorage.com', K: 'key-id-1', S: 'secret-2' },
  );
  const probe = config.probes[0]!;
  t.match(probe, { schedule: null, intervalMs: 300_000, timeoutMs: 20_000, severity: 'S1', service: 'backup', secrets: { endpoint: 'https://acct.r2.cloudflarestorage.com', access_key_id: 'key-id-1', secret_access_key: 'secret-2' } });
  t.match(probe.spec, { schedule: '0 0,6,9,12,15,18,21 * * *', region: 'auto', grace: 1_800_000, min_size_ratio: 0.5, md5_sidecar: true });
  t.throws(
    () => loadConfigText(`environments: { production: {} }\nprobes:\n  - { id: b, type: backup, environment: production, access_key_id_env: K, bucket: sartiq-snapshots, schedule: "0 0 * * *" }\n`, 'b.yaml', { K: 'k' }),
    /probes\[0\]: missing required key "secret_access_key_env" or "secret_access_key_file"/,
  );
});
