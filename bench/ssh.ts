// Benchmark (not a test): compose_ps over a warm vs a fresh SSH connection to a real sshd, and memory per open host connection.
// Usage: npm run build && node --expose-gc dist/bench/ssh.js [--runs 50] [--hosts 50]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import ssh2 from 'ssh2';
import type { ResolvedHost, ResolvedProbe } from '../src/config/types.js';
import { probeSchema } from '../src/config/schema.js';
import { composePsProbe, type ComposePsProbe } from '../src/probes/compose-ps.js';
import type { Transports } from '../src/transport/index.js';
import { PgTransport } from '../src/transport/pg.js';
import { SshTransport } from '../src/transport/ssh.js';

const SSHD = '/usr/sbin/sshd';
const PS = [
  { Name: 'app-backend-1', Service: 'backend', State: 'running', Health: 'healthy', Status: 'Up 2 hours (healthy)', ExitCode: 0 },
  { Name: 'app-db-1', Service: 'db', State: 'running', Health: 'healthy', Status: 'Up 2 hours (healthy)', ExitCode: 0 },
  { Name: 'app-redis-1', Service: 'redis', State: 'running', Health: '', Status: 'Up 2 hours', ExitCode: 0 },
  { Name: 'app-worker-1', Service: 'worker', State: 'running', Health: '', Status: 'Up 2 hours', ExitCode: 0 },
];

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '50' }, hosts: { type: 'string', default: '50' } } });
const runs = Number(args.runs);
const hostCount = Number(args.hosts);
if (!existsSync(SSHD)) {
  console.error(`${SSHD} is missing: apt-get install -y openssh-server`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-ssh-'));
let sshd: ChildProcess | undefined;
try {
  const { port, clientKey, hostKeyLine } = await setUp(dir);
  sshd = await startSshd(join(dir, 'sshd_config'), join(dir, 'sshd.log'), port);
  const log = pino({ enabled: false });
  const host = (name: string): ResolvedHost => ({
    name, environment: 'production', address: '127.0.0.1', port, user: userInfo().username, private_key_env: 'BENCH_KEY',
    host_key: hostKeyLine, compose_dir: dir, docker: 'docker', unreachable_severity: 'S2', privateKey: clientKey, passphrase: null,
  });
  const probe = probeFor();

  // Fresh: a new transport per run, so every run pays TCP + key exchange + authentication.
  const fresh: number[] = [];
  for (let i = 0; i < runs; i++) {
    const transports = transportsFor({ 'bench-host': host('bench-host') }, log);
    fresh.push(await timedRun(probe, transports));
    await transports.close();
  }
  // Warm: one transport, the connection opened by a first run that is not counted.
  const warmTransports = transportsFor({ 'bench-host': host('bench-host') }, log);
  await timedRun(probe, warmTransports);
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) warm.push(await timedRun(probe, warmTransports));
  // The floor of any command: sshd starting a session and the ForceCommand shell, with docker out of it.
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await warmTransports.ssh.exec('bench-host', 'true', { timeoutMs: 10_000, signal: AbortSignal.timeout(10_000) });
    bare.push(performance.now() - started);
  }
  await warmTransports.close();

  // Memory: open `hostCount` connections (one per host name) and compare heap + external and RSS.
  const hosts = Object.fromEntries(Array.from({ length: hostCount }, (_, i) => [`h${i}`, host(`h${i}`)]));
  const many = transportsFor(hosts, log);
  settle();
  const before = process.memoryUsage();
  for (let i = 0; i < hostCount; i += 5) {
    // sshd's MaxStartups throttles many unauthenticated connections at once; open them in small batches.
    await Promise.all(Object.keys(hosts).slice(i, i + 5).map((name) => many.ssh.exec(name, 'true', { timeoutMs: 10_000, signal: AbortSignal.timeout(10_000) })));
  }
  settle();
  const after = process.memoryUsage();
  await many.close();

  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`compose_ps over SSH to a local OpenSSH sshd, ${runs} runs each (ms):`);
  console.log(`  fresh connection: median ${median(fresh).toFixed(1)}  p95 ${p95(fresh).toFixed(1)}`);
  console.log(`  warm connection:  median ${median(warm).toFixed(1)}  p95 ${p95(warm).toFixed(1)}`);
  console.log(`  warm, \`true\` instead of docker: median ${median(bare).toFixed(1)}  p95 ${p95(bare).toFixed(1)}`);
  console.log(`memory per open host connection (${hostCount} hosts${global.gc ? '' : ', run with --expose-gc for steadier figures'}):`);
  console.log(`  heap + external ${kib((after.heapUsed + after.external - before.heapUsed - before.external) / hostCount)}, RSS ${kib((after.rss - before.rss) / hostCount)}`);
} finally {
  if (sshd && sshd.exitCode === null) sshd.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

function probeFor(): ComposePsProbe {
  const spec = probeSchema.parse({ id: 'bench-ps', type: 'compose_ps', host: 'bench-host', services: { backend: 'S1', db: 'S1', redis: 'S2', worker: 'S2' } });
  const probe: ResolvedProbe = {
    id: 'bench-ps', type: 'compose_ps', environment: 'production', service: 'bench-host', severity: 'S2', summary: 'bench', intervalMs: 30_000,
    schedule: null, timeoutMs: 10_000, failureThreshold: 2, successThreshold: 2, dependsOn: [], implicitDeps: ['host:bench-host'],
    enabled: true, escalate: [], spec, headers: {},
  };
  return probe as ComposePsProbe;
}

function transportsFor(hosts: Record<string, ResolvedHost>, log: pino.Logger): Transports {
  const ssh = new SshTransport(hosts, log);
  const pg = new PgTransport({}, log, ssh);
  return { ssh, pg, update: () => undefined, close: async () => { await pg.close(); await ssh.close(); } };
}

async function timedRun(probe: ComposePsProbe, transports: Transports): Promise<number> {
  const started = performance.now();
  const findings = await composePsProbe(probe, { signal: AbortSignal.timeout(10_000), log: pino({ enabled: false }), now: Date.now, transports });
  const ms = performance.now() - started;
  const failed = findings.filter((f) => !f.ok);
  if (failed.length > 0) throw new Error(`compose_ps failed: ${failed.map((f) => f.message).join('; ')}`);
  return ms;
}

async function setUp(base: string): Promise<{ port: number; clientKey: string; hostKeyLine: string }> {
  const bin = join(base, 'bin');
  mkdirSync(bin);
  if (userInfo().uid === 0) mkdirSync('/run/sshd', { recursive: true });
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
  const client = ssh2.utils.generateKeyPairSync('ed25519');
  writeFileSync(join(base, 'host_ed25519'), hostKey.private, { mode: 0o600 });
  writeFileSync(join(base, 'authorized_keys'), `${client.public}\n`);
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\ncat <<'EOF'\n${PS.map((c) => JSON.stringify(c)).join('\n')}\nEOF\n`);
  writeFileSync(join(base, 'force.sh'), `#!/bin/sh\nPATH='${bin}':$PATH exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
  chmodSync(join(bin, 'docker'), 0o755);
  chmodSync(join(base, 'force.sh'), 0o755);
  const port = await freePort();
  writeFileSync(join(base, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(base, 'host_ed25519')}`, `PidFile ${join(base, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(base, 'authorized_keys')}`, 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'MaxStartups 100', `ForceCommand ${join(base, 'force.sh')}`, '',
  ].join('\n'));
  return { port, clientKey: client.private, hostKeyLine: hostKey.public.split(' ').slice(0, 2).join(' ') };
}

async function startSshd(config: string, logFile: string, port: number): Promise<ChildProcess> {
  execFileSync(SSHD, ['-t', '-f', config]);
  const child = spawn(SSHD, ['-D', '-f', config, '-E', logFile], { stdio: 'ignore' });
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('sshd did not start');
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function settle(): void {
  global.gc?.();
  global.gc?.();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? 0;
}
