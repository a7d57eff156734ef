// probes/demo.yaml validates as a template, fills in through the real loader, and the demo VM answers compose as the probes expect.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { fillDemoConfig, readTemplate, templatePath } from '../../src/demo/config.js';
import { ComposeLogs, playCompose, type ContainerState } from '../../src/demo/ssh-host.js';
import { parseComposePs } from '../../src/probes/compose-ps.js';
import { tmpDir } from '../helpers/tmp.js';
import { matchExactly } from '../helpers/match.js';

const FINGERPRINT = 'SHA256:6u3YZzFIRuaYRIKZ76svvt09GjeqITlguxL+cogkUDo';

t.test('probes/demo.yaml is a valid config once its env is set', async (t) => {
  const env = {
    VIGIL_DEMO_DB_URL: 'postgres://vigil:x@127.0.0.1:5432/sartiq',
    VIGIL_DEMO_SSH_KEY: 'key',
    VIGIL_DEMO_REDIS_URL: 'redis://:x@127.0.0.1:6379/0',
    VIGIL_DEMO_S3_ENDPOINT: 'http://127.0.0.1:9000',
    VIGIL_DEMO_S3_KEY_ID: 'x',
    VIGIL_DEMO_S3_SECRET: 'x',
  };
  const config = loadConfig(templatePath(), env);
  t.same(Object.keys(config.environments).sort(), ['production', 'staging']);
  t.equal(config.environments.staging?.severityCap, 'S3', 'staging is capped');
  t.same(config.probes.map((p) => p.type).sort(), ['backup', 'compose_logs', 'compose_ps', 'http', 'http', 'http', 'pg_connections', 'pg_long_queries', 'pg_ready', 'redis']);
  t.match(config.probes.find((p) => p.id === 'backend-redis'), { environment: 'production', implicitDeps: ['host:demo-backend'], summaries: { 'backend-redis:queue:celery': 'Generation pipeline stuck' } }, 'Redis through the VM, the queue named as the runbook does');
  t.same(config.probes.find((p) => p.id === 'backend-health')?.dependsOn, ['backend-db-ready'], 'backend health depends on the database');
  t.equal(config.databases['backend-db']?.via, 'demo-backend', 'the database is reached through the VM');
  t.equal(config.defaults.intervalMs, 5_000);
  t.throws(() => loadConfig(templatePath(), {}), /VIGIL_DEMO_DB_URL is not set/, 'without its env the template names what is missing');
});

function fill(dir: string, speed: number): string {
  writeFileSync(join(dir, 'db.url'), 'postgres://vigil:pw@127.0.0.1:5999/sartiq\n');
  writeFileSync(join(dir, 'host.key'), 'not a real key');
  writeFileSync(join(dir, 'redis.url'), 'redis://:demo-pw@127.0.0.1:6399/0\n');
  writeFileSync(join(dir, 's3-endpoint'), 'http://127.0.0.1:7009\n');
  writeFileSync(join(dir, 's3-key-id'), 'DEMOKEY\n');
  writeFileSync(join(dir, 's3-secret'), 'demo-secret\n');
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    fillDemoConfig(readTemplate(), {
      listen: { host: '127.0.0.1', port: 9555 },
      storePath: join(dir, 'vigil.db'),
      sshPort: 2299,
      hostKeySha256: FINGERPRINT,
      dbUrlFile: 'db.url',
      sshKeyFile: 'host.key',
      redisUrlFile: 'redis.url',
      s3EndpointFile: 's3-endpoint',
      s3KeyIdFile: 's3-key-id',
      s3SecretFile: 's3-secret',
      backendUrl: 'http://127.0.0.1:7001',
      computeUrl: 'http://127.0.0.1:7002',
      stagingComputeUrl: 'http://127.0.0.1:7003',
      speed,
    }),
  );
  return file;
}

t.test('the filled-in config loads with no env, its secrets in files beside it', async (t) => {
  const dir = tmpDir(t, 'vigil-demo-config-');
  const config = loadConfig(fill(dir, 1), {});
  t.equal(config.server.port, 9555);
  t.equal(config.server.publicUrl, 'http://127.0.0.1:9555');
  t.equal(config.store.path, join(dir, 'vigil.db'));
  t.match(config.hosts['demo-backend'], { port: 2299, host_key_sha256: FINGERPRINT, privateKey: 'not a real key' });
  t.equal(config.databases['backend-db']?.url, 'postgres://vigil:pw@127.0.0.1:5999/sartiq');
  t.same(config.probes.find((p) => p.id === 'backend-redis')?.secrets, { url: 'redis://:demo-pw@127.0.0.1:6399/0' }, 'the Redis URL from its file');
  t.same(config.probes.find((p) => p.id === 'backend-backups')?.secrets, { endpoint: 'http://127.0.0.1:7009', access_key_id: 'DEMOKEY', secret_access_key: 'demo-secret' }, 'and the bucket\'s');
  const urls = Object.fromEntries(config.probes.filter((p) => p.spec.type === 'http').map((p) => [p.id, p.spec.type === 'http' ? p.spec.url : '']));
  t.same(urls, {
    'backend-health': 'http://127.0.0.1:7001/api/v1/utils/health-check/',
    'compute-health': 'http://127.0.0.1:7002/health',
    'staging-compute-health': 'http://127.0.0.1:7003/health',
  });
  t.equal(config.defaults.intervalMs, 5_000, 'speed 1 keeps the template durations');
});

t.test('--speed divides the durations that set the pace, down to a floor', async (t) => {
  const dir = tmpDir(t, 'vigil-demo-config-');
  const config = loadConfig(fill(dir, 10), {});
  t.equal(config.defaults.intervalMs, 1_000, '5s / 10 is lifted to the 1 s floor');
  t.equal(config.defaults.timeoutMs, 800, 'and the timeout to 800 ms');
  const spec = (id: string) => config.probes.find((p) => p.id === id)?.spec as Record<string, unknown>;
  t.equal(spec('backend-errors').window, 6_000, 'the log window 1m / 10');
  t.equal(spec('backend-db-long-queries').older_than, 1_000, 'older_than 10s / 10');
  t.match(spec('backend-redis').queues, [{ key: 'celery', stuck_after: 2_000 }], 'stuck_after 15s / 10, lifted to its 2 s floor');
  const twice = loadConfig(fill(dir, 2), {});
  t.equal(twice.defaults.intervalMs, 2_500);
  t.equal(twice.defaults.timeoutMs, 1_500);
});

t.test('the demo VM plays docker compose ps and logs the way the compose probes read them', async (t) => {
  const dir = '/home/ubuntu/services/shootify-deploy';
  const containers: ContainerState[] = [
    { service: 'backend', state: 'running', health: 'healthy' },
    { service: 'worker', state: 'running', health: 'unhealthy' },
  ];
  const logs = new ComposeLogs();
  logs.write('backend', 'INFO: old line', 1_000);
  logs.write('backend', 'ERROR: recent line', 50_000);
  const compose = { dir, containers: () => containers, logs };

  const ps = playCompose(`cd ${dir} && docker compose ps --all --format json`, compose);
  t.equal(ps.code, 0);
  const parsed = parseComposePs(ps.stdout ?? '');
  matchExactly(t, parsed, [
    { service: 'backend', state: 'running', health: 'healthy' },
    { service: 'worker', state: 'running', health: 'unhealthy', status: 'Up 2 hours (unhealthy)' },
  ]);

  const recent = playCompose(`cd ${dir} && docker compose logs --no-color --timestamps --since 30s backend`, compose, 60_000);
  t.equal(recent.code, 0);
  t.match(recent.stdout, /^shootify-deploy-backend-1 {2}\| 1970-01-01T00:00:50\.000Z ERROR: recent line\n$/, 'only lines within the window');
  t.match(playCompose(`cd ${dir} && docker compose logs --no-color --timestamps --since 30s nope`, compose), { code: 1, stderr: /no such service: nope/ });
  const tail = playCompose(`cd ${dir} && docker compose logs --no-color --timestamps --tail 50 backend`, compose, 60_000);
  t.equal(tail.code, 0, "triage's --tail is answered");
  t.equal(tail.stdout?.split('\n').filter(Boolean).length, 2, 'the last 50 lines: both, old and new');
  t.match(playCompose(`cd ${dir} && docker compose logs --no-color --timestamps --tail 1 backend`, compose).stdout, /^\S+ +\| \S+ ERROR: recent line\n$/);
  t.match(playCompose(`cd ${dir} && docker compose logs --no-color --timestamps --tail 5s backend`, compose), { code: 1 }, 'a malformed --tail is refused');
  t.match(playCompose(`cd /elsewhere && docker compose ps --all --format json`, compose), { code: 2, stderr: /can't cd/ });
  t.match(playCompose('rm -rf / ; docker compose ps', compose), { code: 2 }, 'anything but cd && docker compose is refused');
});

t.test('generated SSH keys always parse (ssh2 makes an unreadable ed25519 key about 1 time in 250)', async (t) => {
  const { generateEd25519 } = await import('../../src/demo/ssh-host.js');
  const ssh2 = (await import('ssh2')).default;
  for (let i = 0; i < 1_000; i++) {
    const pair = generateEd25519();
    const parsed = ssh2.utils.parseKey(pair.private);
    if (parsed instanceof Error || Array.isArray(parsed)) {
      t.fail(`key ${i} does not parse`);
      return;
    }
  }
  t.pass('1,000 keys in a row parse');
});
