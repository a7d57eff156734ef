// Benchmark (not a test): replicas of `vigil run` in shard mode on one embedded PostgreSQL, splitting a
// large HTTP fleet. Prints each replica's share of the probes, its CPU per 1,000 runs and peak RSS over
// a window, then breaks one target and times how long until its page reaches (a strict fake) Discord.
// Usage: npm run build && node dist/bench/cluster-shard.js [--probes 20000] [--interval 60s] [--replicas 3] [--duration 60s]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DISCORD_CHANNELS_YAML, FakeDiscord } from '../test/helpers/fake-discord.js';
import { startPostgresServer } from '../test/helpers/pg.js';
import { freePort, VigilProcess, waitFor } from '../test/helpers/vigil-process.js';
import { durationMs, MB, sleep, startTargets, targetPort } from './measure.js';

const { values } = parseArgs({
  options: {
    probes: { type: 'string', default: '20000' },
    interval: { type: 'string', default: '60s' },
    replicas: { type: 'string', default: '3' },
    duration: { type: 'string', default: '60s' },
  },
});
const probes = Number(values.probes);
const replicas = Number(values.replicas);
const intervalMs = durationMs(values.interval, '--interval');
const windowMs = durationMs(values.duration, '--duration');
if (!Number.isInteger(probes) || probes < 1) throw new Error(`--probes: "${values.probes}" is not a whole number above 0`);
if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas: "${values.replicas}" is not a whole number above 0`);

const TOKEN = 'bench-cluster-token';
/** The repository's bin/vigil.js, from dist/bench/. */
const VIGIL = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
/** The broken target's own interval: the page latency is measured from the break, so keep it short. */
const FAULT_INTERVAL = '5s';
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-cluster-'));
const cleanups: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];

/** A target the bench breaks on purpose: healthy until `broken`, then 503. */
let broken = false;
const faultServer = createServer((_req, res) => {
  res.statusCode = broken ? 503 : 200;
  res.setHeader('content-type', 'application/json');
  res.end(broken ? '{"status":"down"}' : '{"status":"ok"}');
});
await new Promise<void>((r) => faultServer.listen(0, '127.0.0.1', r));
cleanups.push(() => faultServer.close());
const faultPort = (faultServer.address() as { port: number }).port;

function configYaml(replica: string, port: number, ports: readonly number[]): string {
  const lines = Array.from(
    { length: probes },
    (_, i) => `  - { id: p${i}, type: http, environment: bench, service: svc${i % 20}, url: "http://127.0.0.1:${targetPort(ports, i)}/p${i}", expect: { json: { status: ok } } }`,
  );
  return `server: { listen: "127.0.0.1:${port}", api_token_env: VIGIL_API_TOKEN }
store: { postgres: { url_env: VIGIL_STORE_URL } }
cluster: { replica: ${replica}, mode: shard, quorum: 1, interval: 2s }
defaults: { interval: ${values.interval}, timeout: 5s, concurrency: 64 }
environments: { bench: {} }
${DISCORD_CHANNELS_YAML}
probes:
  - { id: fault, type: http, environment: bench, service: fault, severity: S2, summary: Bench target down, interval: ${FAULT_INTERVAL}, url: "http://127.0.0.1:${faultPort}/health", expect: { json: { status: ok } } }
${lines.join('\n')}
`;
}

/** utime + stime of a process, in seconds, and its peak RSS, from /proc. */
function procUsage(pid: number): { cpuSeconds: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, peakRssBytes: Number(hwm?.[1] ?? 0) * 1024 };
}

async function cluster(port: number): Promise<{ leader: string | null; replicas: Array<{ name: string; probes: number }> } | null> {
  const res = await fetch(`http://127.0.0.1:${port}/api/cluster`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => null);
  return res?.status === 200 ? ((await res.json()) as never) : null;
}

try {
  console.error('starting PostgreSQL, the targets and the fake Discord');
  const pg = await startPostgresServer({ maxConnections: 100 });
  cleanups.push(() => pg.close());
  const targets = await startTargets();
  cleanups.push(() => targets.stop());
  const discord = await new FakeDiscord().start();
  cleanups.push(() => discord.close());

  const started: Array<{ name: string; port: number; vigil: VigilProcess }> = [];
  for (let i = 0; i < replicas; i++) {
    const name = `vigil-${String.fromCharCode(97 + i)}`;
    const port = await freePort();
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, configYaml(name, port, targets.ports));
    const vigil = new VigilProcess(['run', '--config', file], {
      VIGIL_LOG_LEVEL: 'warn',
      VIGIL_STORE_URL: pg.superuserUrl,
      VIGIL_API_TOKEN: TOKEN,
      ...discord.channelEnv(),
    }, { file: process.execPath, args: [VIGIL], env: process.env });
    cleanups.push(() => vigil.kill('SIGKILL'));
    void vigil.exited.then(({ code, signal }) => {
      if (signal !== 'SIGKILL') console.error(`${name} exited (${code ?? signal}): ${vigil.stderr.slice(-2000)}${vigil.stdout.slice(-2000)}`);
    });
    started.push({ name, port, vigil });
  }
  for (const r of started) await r.vigil.ready(r.port, 10 * 60_000);
  console.error(`${replicas} replicas ready; waiting for them to split ${probes + 1} probes`);

  // Shares settle once every replica has heard of all the others.
  const total = probes + 1;
  const shares = await waitFor(async () => {
    const c = await cluster(started[0]!.port);
    const live = c?.replicas ?? [];
    console.error(`  /api/cluster: ${JSON.stringify(live.map((r) => [r.name, r.probes]))}`);
    return live.length === replicas && live.every((r) => r.probes > 0) && live.reduce((n, r) => n + r.probes, 0) === total ? live : null;
  }, 5 * 60_000, () => 'the replicas never split the probes between them');

  console.error(`split; measuring for ${values.duration}`);
  const before = started.map((r) => procUsage(r.vigil.child.pid!));
  await sleep(windowMs);
  const after = started.map((r) => procUsage(r.vigil.child.pid!));
  const runsPerReplica = (share: number) => (share * windowMs) / intervalMs;

  const pagesBefore = discord.accepted('errors').length;
  const brokeAt = Date.now();
  broken = true;
  const page = await waitFor(
    () => discord.accepted('errors').slice(pagesBefore).find((a) => JSON.stringify(a.payload).includes('Bench target down')),
    5 * 60_000,
    () => 'the broken target was never paged',
  );
  const leader = (await cluster(started[0]!.port))?.leader ?? '?';

  console.log(`${replicas} replicas, mode shard, ${probes.toLocaleString('en')} probes every ${values.interval}, measured over ${values.duration}; leader ${leader}`);
  console.log('| replica | probes | share | CPU-s per 1,000 runs | peak RSS MB |');
  console.log('| --- | --- | --- | --- | --- |');
  started.forEach((r, i) => {
    const share = shares.find((s) => s.name === r.name)?.probes ?? 0;
    const cpu = after[i]!.cpuSeconds - before[i]!.cpuSeconds;
    const runs = runsPerReplica(share);
    console.log(`| ${r.name} | ${share.toLocaleString('en')} | ${((100 * share) / total).toFixed(1)} % | ${runs > 0 ? ((1000 * cpu) / runs).toFixed(3) : '-'} | ${(after[i]!.peakRssBytes / MB).toFixed(1)} |`);
  });
  console.log(`page latency of a fault (target broken → #errors accepted the page, probe every ${FAULT_INTERVAL}): ${((page.at - brokeAt) / 1000).toFixed(1)} s`);
} finally {
  for (const clean of cleanups.reverse()) await clean();
}
