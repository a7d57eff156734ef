// The Dockerfile, compose service and systemd unit keep the properties operators rely on (no Docker engine here to build them).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

t.test('Dockerfile: multi-stage, production dependencies only, non-root, healthcheck, config and data paths', async (t) => {
  const text = read('Dockerfile');
  const stages = text.match(/^FROM /gm) ?? [];
  t.ok(stages.length >= 2, 'multi-stage');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const deps = /^FROM \S+ AS deps$([\s\S]*?)^FROM /m.exec(text)?.[1] ?? '';
  t.match(deps, /npm ci --omit=dev/, 'the dependencies stage installs production dependencies only');
  t.match(final, /^COPY --from=deps \/app\/node_modules \.\/node_modules$/m, 'and the final stage takes them, without the compiler');
  t.notMatch(final, /apt-get|g\+\+/, 'no compiler in the final stage');
  t.match(final, /^USER vigil$/m, 'runs as the vigil user');
  t.match(final, /VIGIL_HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:9477\/healthz/);
  t.match(final, /^HEALTHCHECK [^\n]*\\\n\s+CMD \[[^\n]*VIGIL_HEALTHCHECK_URL/m, 'the healthcheck asks /healthz');
  t.match(final, /VIGIL_CONFIG=\/etc\/vigil\/vigil\.yaml/);
  t.match(final, /^VOLUME \["\/var\/lib\/vigil"\]$/m);
  t.match(final, /COPY src\/server\/views \.\/src\/server\/views/, 'the status page templates, which tsc does not copy');
  t.match(final, /^EXPOSE 9477$/m);
  t.notMatch(final, /NODE_EXTRA_CA_CERTS|ca-bundle|NODE_HEADERS_DIR|npm ci(?! --omit=dev)/, 'build-time settings and dev dependencies stay in the build stages');
  t.match(text, /^#.*docker run -p 127\.0\.0\.1:9477:9477 /m, 'the example publishes the port');
  const ignored = read('.dockerignore').split('\n');
  for (const entry of ['node_modules', 'dist', 'data', '.git', '*.env']) t.ok(ignored.includes(entry), `.dockerignore has ${entry}`);
});

t.test('deploy/compose.yaml: vigil with its config, data volume, secret and a locked-down container', async (t) => {
  const compose = parse(read('deploy/compose.yaml')) as { services: Record<string, any>; volumes: Record<string, unknown>; secrets: Record<string, { file: string }> };
  const vigil = compose.services.vigil;
  t.ok(vigil, 'a vigil service');
  t.same(vigil.build, { context: '..', dockerfile: 'Dockerfile' });
  t.ok(vigil.volumes.includes('./vigil.yaml:/etc/vigil/vigil.yaml:ro'), 'the config, read-only, at /etc/vigil');
  t.ok(vigil.volumes.includes('vigil-data:/var/lib/vigil'), 'the store on a named volume');
  t.ok('vigil-data' in compose.volumes);
  t.equal(vigil.read_only, true);
  t.same(vigil.cap_drop, ['ALL']);
  t.ok(vigil.security_opt.includes('no-new-privileges:true'));
  t.ok(vigil.ports.every((p: string) => p.startsWith('127.0.0.1:')), 'published on loopback only');
  t.equal(vigil.mem_limit, '2g', 'a memory limit, which Node sizes its heap from');
  t.ok('vigil_ssh_key' in compose.secrets);
  t.same(compose.services.prometheus?.profiles, ['metrics'], 'Prometheus is opt-in');
  t.ok(existsSync(`${ROOT}deploy/prometheus/prometheus.yml`), 'the directory it mounts exists');
  const alertmanager = compose.services.alertmanager;
  t.same(alertmanager?.profiles, ['metrics'], 'Alertmanager comes with Prometheus');
  t.ok(alertmanager.volumes.includes('./alertmanager:/etc/alertmanager:ro'));
  t.ok(existsSync(`${ROOT}deploy/alertmanager/alertmanager.yml`), 'the config it mounts exists');
  t.ok(alertmanager.secrets.includes('alertmanager_discord_webhook'), 'the webhook URL is a secret');
  t.ok(readFileSync(`${ROOT}deploy/alertmanager/alertmanager.yml`, 'utf8').includes('api_url_file: /run/secrets/alertmanager_discord_webhook'), 'where the secret appears');
  t.ok('alertmanager' in compose.services.prometheus.depends_on);
});

t.test('deploy/vigil.service: hardened, one writable path, reload by SIGHUP', async (t) => {
  const text = read('deploy/vigil.service');
  const directives = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (key: string) => directives.get(key)?.[0];
  t.equal(one('NoNewPrivileges'), 'yes');
  t.equal(one('ProtectSystem'), 'strict');
  t.equal(one('ProtectHome'), 'yes');
  t.equal(one('StateDirectory'), 'vigil', '/var/lib/vigil is the writable path');
  t.notOk(directives.has('ReadWritePaths'), 'no other writable path');
  t.equal(one('User'), 'vigil');
  t.equal(one('CapabilityBoundingSet'), '');
  t.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  t.equal(one('RestartPreventExitStatus'), '78', 'a bad config is not restarted in a loop');
  t.match(one('ExecStart'), /vigil\.js run$/);
  t.equal(one('MemoryMax'), '2G', 'a memory limit, which Node sizes its heap from');
});

t.test('deploy/vigil.service passes systemd-analyze verify', { skip: skipWithout(PEERS.systemdAnalyze) }, async (t) => {
  const analyze = findPeer(PEERS.systemdAnalyze)!;
  // verify checks every directive's name and value against this machine's systemd.
  const { stdout, stderr } = await promisify(execFile)(analyze, ['verify', `${ROOT}deploy/vigil.service`]).catch((err: { stdout: string; stderr: string }) => err);
  t.equal(`${stdout}${stderr}`.trim(), '', 'systemd-analyze verify has nothing to say');
});

t.test('the secrets and the local config of the deploy recipes are git-ignored', async (t) => {
  const compose = parse(read('deploy/compose.yaml')) as { secrets: Record<string, { file: string }> };
  const paths = ['deploy/vigil.env', 'deploy/vigil.yaml', ...Object.values(compose.secrets).map((s) => `deploy/${s.file.replace(/^\.\//, '')}`)];
  t.ok(paths.some((p) => p.startsWith('deploy/secrets/')), `paths: ${paths.join(', ')}`);
  // check-ignore answers for paths that need not exist, from the repository's own ignore rules.
  const { stdout } = await promisify(execFile)('git', ['check-ignore', '--no-index', ...paths], { cwd: ROOT }).catch((err: { stdout: string }) => err);
  t.same(stdout.trim().split('\n').sort(), [...paths].sort(), 'git check-ignore lists every one');
});

t.test('one Node.js requirement: package.json engines, README, Dockerfile, systemd unit', async (t) => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  t.equal(engines, '>=20.19 <21 || >=22');
  t.match(read('README.md'), /Node\.js 20\.19 or later/, 'the README states it');
  t.match(read('Dockerfile'), /Node\.js 20\.19 or later/, 'the Dockerfile states it');
  const unit = read('deploy/vigil.service');
  t.ok(unit.includes(engines), 'the unit states it');

  // The unit's ExecStartPre runs Node's own check: refuse (78, not restarted) below the requirement.
  const pre = /^ExecStartPre=\/usr\/bin\/node -e "(.*)"$/m.exec(unit)?.[1];
  t.ok(pre, 'ExecStartPre checks the version');
  t.ok(pre!.includes(engines), 'and its message names the requirement');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-node-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const check = async (version: string) => {
    const fake = join(dir, `${version}.cjs`);
    writeFileSync(fake, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${version}' } }); Object.defineProperty(process, 'version', { value: 'v${version}' });`);
    return promisify(execFile)(process.execPath, ['-r', fake, '-e', pre!]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
  };
  for (const version of ['20.19.0', '20.20.2', '22.0.0', '24.1.0']) t.equal((await check(version)).code, 0, `${version} passes`);
  for (const version of ['18.19.1', '20.18.3', '21.7.3']) {
    const refused = await check(version);
    t.equal(refused.code, 78, `${version} is refused`);
    t.match(refused.stderr, `vigil needs Node.js ${engines}; /usr/bin/node is v${version}`);
  }
  t.equal(/^RestartPreventExitStatus=(.*)$/m.exec(unit)?.[1], '78', 'a refused Node is not restarted in a loop');
});

t.test('the image compiles production code alone: nothing under src/ reaches test/, bench/ or scripts/', async (t) => {
  t.match(read('Dockerfile'), /^RUN npx tsc -p tsconfig\.image\.json$/m, 'the build stage compiles tsconfig.image.json');
  const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.image.json', '--listFilesOnly'], { cwd: ROOT, maxBuffer: 16 << 20 });
  const ours = stdout.split('\n').filter((file) => file !== '' && !file.includes('/node_modules/'));
  t.ok(ours.some((file) => file === `${ROOT}src/cli.ts`), 'the CLI is part of it');
  t.same(ours.filter((file) => !file.startsWith(`${ROOT}src/`)), [], 'every compiled file is under src/');
});
