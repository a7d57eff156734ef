// `vigil demo` (and `npm start`): a simulated Sartiq fleet with faults on a timeline, watched by the real daemon, until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { Daemon } from '../daemon.js';
import { fillDemoConfig, readTemplate } from '../demo/config.js';
import { DemoError } from '../demo/errors.js';
import { BACKUP_BUCKET, BACKUP_PREFIX, BACKUP_SCHEDULE, freePort, startFleet, type DemoFleet } from '../demo/fleet.js';
import { createPrinter, type Printer } from '../demo/printer.js';
import { DEMO_TIMELINE, describeTimeline, parseSpeed } from '../demo/timeline.js';
import { createRunLogger } from '../log.js';
import { VERSION } from '../version.js';

/** The 15 s stop budget (docs/incidents.md), as `vigil run` keeps it. */
const STOP_DEADLINE_MS = 15_000;
const PREFERRED_PORT = 9477;
const EXIT_USAGE = 64;

export interface DemoOptions {
  /** `--speed`; else $VIGIL_DEMO_SPEED; else 1. */
  speed?: string;
}

/** 9477 like `vigil run` when it is free, so the URLs in the README work; else any free port. */
async function listenPort(): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(PREFERRED_PORT, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  return free ? PREFERRED_PORT : freePort();
}

function banner(config: Config, fleet: DemoFleet, dir: string, speed: number, configPath: string): string[] {
  const base = `http://${config.server.host}:${config.server.port}`;
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;
  const d = config.defaults;
  return [
    '',
    `vigil demo ${VERSION} · a simulated Sartiq fleet, watched by the real vigil daemon${speed === 1 ? '' : ` (${speed}× speed)`}`,
    '',
    `  status page   ${base}/status`,
    `  API           ${base}/api/status · ${base}/api/incidents · ${base}/metrics`,
    `  backend       ${fleet.http.backendUrl}/api/v1/utils/health-check/  (its health check queries the database)`,
    `  compute       ${fleet.http.computeUrl}/health (production) · ${fleet.http.stagingComputeUrl}/health (staging)`,
    `  VM            ssh ubuntu@127.0.0.1:${fleet.ssh.port}, plays docker compose (host key ${fleet.ssh.fingerprint}, pinned)`,
    `  database      PostgreSQL on 127.0.0.1:${fleet.pg.port}, reached through the VM's SSH connection as role "vigil"`,
    `  redis         Redis (the Celery queue) on 127.0.0.1:${fleet.redis.port}, through the same SSH connection`,
    `  backups       ${fleet.bucket.endpoint}/${BACKUP_BUCKET}/${BACKUP_PREFIX}  (S3 API, schedule "${BACKUP_SCHEDULE}")`,
    `  config        ${configPath}  (probes/demo.yaml, filled in)`,
    `  full log      ${join(dir, 'vigil.log')}  (JSON lines)`,
    `  ${dir} is removed when the demo stops.`,
    '',
    `What will happen (probes every ${seconds(d.intervalMs)}; ${d.failureThreshold} failures in a row open an incident, ${d.successThreshold} passes resolve it):`,
    ...describeTimeline(DEMO_TIMELINE, speed).map((l) => `  ${l}`),
    '',
    'Below: each message exactly as #ops on Discord would get it, and each fault as it happens.',
    `In another terminal:  node bin/vigil.js incidents --config ${configPath}`,
    'Stop with Ctrl-C.',
    '',
  ];
}

export async function demoCommand(opts: DemoOptions = {}): Promise<number> {
  let speed: number;
  try {
    speed = parseSpeed(opts.speed ?? process.env.VIGIL_DEMO_SPEED);
  } catch (err) {
    process.stderr.write(`vigil demo: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }

  // Ctrl-C during the seconds PostgreSQL takes to start must still clean up, not kill the process.
  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    stopRequested(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const dir = mkdtempSync(join(tmpdir(), 'vigil-demo-'));
  // As root, PostgreSQL runs as the `postgres` user, which must reach its data dir under this one.
  chmodSync(dir, 0o755);
  const out = (text: string) => void process.stdout.write(text);
  const printer: Printer = createPrinter({ logFile: join(dir, 'vigil.log'), write: out, color: process.stdout.isTTY === true && !process.env.NO_COLOR });
  let fleet: DemoFleet | null = null;
  let daemon: Daemon | null = null;
  let code = 0;

  const shutdown = async (): Promise<void> => {
    try {
      await daemon?.stop();
    } catch (err) {
      printer.say(`vigil demo: stopping the daemon failed: ${(err as Error).message}`);
      code = 1;
    }
    try {
      await fleet?.stop();
    } catch (err) {
      printer.say(`vigil demo: stopping the fleet failed: ${(err as Error).message}`);
      code = 1;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    printer.say(`vigil demo: starting PostgreSQL, an SSH host, Redis, a backup bucket and the HTTP services in ${dir} …`);
    fleet = await startFleet({
      dir,
      timeline: DEMO_TIMELINE,
      speed,
      onChange: (change) => printer.fault(change.fault, change.on),
      onError: (kind, err) => printer.say(`vigil demo: could not apply ${kind} (retrying): ${err.message}`),
    });
    if (!signalled) {
      const port = await listenPort();
      writeFileSync(join(dir, 'backend-db.url'), `${fleet.pg.monitorUrl}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'demo-backend.key'), fleet.ssh.clientPrivateKey, { mode: 0o600 });
      const secrets = {
        'backend-redis.url': `redis://:${encodeURIComponent(fleet.redisPassword)}@127.0.0.1:${fleet.redis.port}/0`,
        's3-endpoint': fleet.bucket.endpoint,
        's3-key-id': `DEMO${randomBytes(8).toString('hex').toUpperCase()}`,
        's3-secret': randomBytes(24).toString('base64url'),
      };
      for (const [file, value] of Object.entries(secrets)) writeFileSync(join(dir, file), `${value}\n`, { mode: 0o600 });
      const configPath = join(dir, 'vigil.yaml');
      const yaml = fillDemoConfig(readTemplate(), {
        listen: { host: '127.0.0.1', port },
        storePath: join(dir, 'vigil.db'),
        sshPort: fleet.ssh.port,
        hostKeySha256: fleet.ssh.fingerprint,
        dbUrlFile: 'backend-db.url',
        sshKeyFile: 'demo-backend.key',
        redisUrlFile: 'backend-redis.url',
        s3EndpointFile: 's3-endpoint',
        s3KeyIdFile: 's3-key-id',
        s3SecretFile: 's3-secret',
        backendUrl: fleet.http.backendUrl,
        computeUrl: fleet.http.computeUrl,
        stagingComputeUrl: fleet.http.stagingComputeUrl,
        speed,
      });
      writeFileSync(configPath, yaml, { mode: 0o600 });
      const config = loadConfig(configPath);
      const { log } = createRunLogger({ destination: printer.destination, betterstack: null });
      daemon = await Daemon.start({ config, log, version: VERSION });
      for (const text of banner(config, fleet, dir, speed, configPath)) printer.say(text);
      printer.start();
      fleet.follow();
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      printer.say(`vigil demo: the filled-in probes/demo.yaml is not valid:\n${err.problems.map(formatProblem).join('\n')}`);
    } else {
      const e = err as Error & { code?: string };
      printer.say(`vigil demo: ${err instanceof DemoError ? e.message : `could not start: ${e.message}`}`);
    }
    await shutdown();
    printer.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 1;
  }

  const signal = await stopSignal;
  printer.say(`\n${signal} received: stopping the daemon, the SSH host, Redis, the bucket, the HTTP services and PostgreSQL …`);
  const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_DEADLINE_MS).unref());
  const outcome = await Promise.race([shutdown().then(() => 'done' as const), deadline]);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (outcome === 'late') {
    printer.say(`vigil demo: stopping took longer than ${STOP_DEADLINE_MS / 1000} s: exiting anyway`);
    return 1;
  }
  printer.close();
  printer.say(code === 0 ? 'vigil demo stopped.' : 'vigil demo stopped, with errors (above).');
  return code;
}
