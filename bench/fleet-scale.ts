// Benchmark (not a test): vigil at several fleet sizes in one invocation, each measured in a process
// of its own (so peak RSS is that run's), printed as one Markdown table: CPU per 1,000 runs,
// scheduler lag, peak RSS and heap, store size; with --compare, a bare undici loop at the same rate,
// measured at the same time, and the ratio; /status and /api/status under N concurrent requests; the store.
// Usage: npm run bench:scale -- [--sizes 1000@10s,5000@10s,20000@60s] [--warmup 15s] [--duration 2m]
//        [--compare] [--status-requests 1000] [--status-at 1000] [--days 30] [--growth-probes 1000]
//        [--memory-limit-mb 2048] (every process under one memory limit, as MemoryMax= sets; needs root)
// A short run: npm run bench:scale -- --sizes 1000@10s --warmup 5s --duration 20s --days 3
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBareLoop } from './bare-loop.js';
import { enterMemoryLimit } from './memory-limit.js';
import { durationMs, MB, MemoryPeaks, Meter, percentile, startTargets, type Window } from './measure.js';
import { concurrentGets, type LoadResult } from './status-load.js';
import type { Growth } from './store-growth.js';

const SELF = fileURLToPath(import.meta.url);
const STATUS_PATHS = ['/status', '/api/status'] as const;

interface FleetJob {
  probes: number;
  interval: string;
  warmupMs: number;
  durationMs: number;
  ports: number[];
  statusRequests: number;
  /** Measured at the same time as the other loop (--compare): wait for the parent's go before the warm-up. */
  sideBySide: boolean;
}

interface Measured {
  window: Window;
  rssBytes: number;
  heapBytes: number;
}

interface VigilResult extends Measured {
  storeBytes: number;
  status: Array<{ path: string; window: Window; load: LoadResult; rssBytes: number }>;
}

/** Runs `role` in a child process of its own and resolves with the one result it sends back. */
function inChild<T>(role: string, job: unknown): Promise<T> {
  return startChild<T>(role, job).result;
}

/**
 * Starts `role` in a child process of its own. A role that measures side by side with another says
 * `ready` once started and waits for go() before its warm-up (see together()).
 */
function startChild<T>(role: string, job: unknown): { ready: Promise<void>; go: () => void; result: Promise<T> } {
  const child = fork(SELF, ['--role', role, JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const result = new Promise<T>((resolve, reject) => {
    child.on('message', (m) => {
      if ((m as { ready?: unknown }).ready === true) ready();
      else resolve((m as { result: T }).result);
    });
    child.once('exit', (code) => reject(new Error(`the ${role} process exited with ${code} before answering`)));
  });
  return { ready: isReady, go: () => child.send({ go: true }), result };
}

/**
 * vigil and the bare loop measured at the same time, each in its own process on its own core: this
 * machine's speed wanders by half over minutes (shared hosts), so only windows that coincide give a
 * ratio that means something. Both start (vigil loads its config), then both warm up and measure together.
 */
async function together<A, B>(a: ReturnType<typeof startChild<A>>, b: ReturnType<typeof startChild<B>>): Promise<[A, B]> {
  await Promise.all([a.ready, b.ready]);
  a.go();
  b.go();
  return Promise.all([a.result, b.result]);
}

/** In a role: tells the parent this process is started and waits for its go. */
async function readyThenGo(): Promise<void> {
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  process.send!({ ready: true });
  await go;
}

async function vigilRole(job: FleetJob): Promise<VigilResult> {
  // Only this role loads the daemon: the bare loop's, the load's and the floor's processes stay bare.
  const { startFleetDaemon } = await import('./fleet.js');
  const peaks = new MemoryPeaks();
  const meter = new Meter();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-scale-'));
  const daemon = await startFleetDaemon({ probes: job.probes, interval: job.interval, ports: job.ports, storePath: join(dir, 'bench.db'), listen: job.statusRequests > 0 }, meter);
  if (job.sideBySide) await readyThenGo();
  const window = await meter.window(job.warmupMs, job.durationMs);
  const memory = peaks.read();
  const storeBytes = daemon.store.sizeBytes();
  const status: VigilResult['status'] = [];
  if (job.statusRequests > 0) {
    const { port } = daemon.app.server.address() as { port: number };
    for (const path of STATUS_PATHS) {
      let load: LoadResult | undefined;
      // The load comes from another process, so its CPU is not vigil's; the probes keep running meanwhile.
      const w = await meter.measure(async () => {
        load = await inChild<LoadResult>('load', { url: `http://127.0.0.1:${port}${path}`, requests: job.statusRequests });
      });
      status.push({ path, window: w, load: load!, rssBytes: peaks.read().rssBytes });
    }
  }
  await daemon.stop();
  peaks.stop();
  rmSync(dir, { recursive: true, force: true });
  return { window, ...memory, storeBytes, status };
}

async function bareRole(job: FleetJob): Promise<Measured> {
  const peaks = new MemoryPeaks();
  const meter = new Meter();
  if (job.sideBySide) await readyThenGo();
  const stop = startBareLoop({ probes: job.probes, intervalMs: durationMs(job.interval, 'interval'), ports: job.ports, onLag: meter.onLag });
  const window = await meter.window(job.warmupMs, job.durationMs);
  const memory = peaks.read();
  await stop();
  peaks.stop();
  return { window, ...memory };
}

/** The floor for the status rows: a bare node:http server sending a body of the same size. */
async function staticRole(job: { bytes: number; requests: number }): Promise<LoadResult> {
  const body = Buffer.alloc(job.bytes, 'x');
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body));
  // The same accept queue as vigil's server, so the floor is the machine's and not Node's default of 511.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const { port } = server.address() as { port: number };
  try {
    return await inChild<LoadResult>('load', { url: `http://127.0.0.1:${port}/`, requests: job.requests });
  } finally {
    server.close();
  }
}

async function growthRole(job: { probes: number; days: number }): Promise<Growth> {
  const { simulateStoreGrowth } = await import('./store-growth.js');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-growth-'));
  try {
    return simulateStoreGrowth({ probes: job.probes, days: job.days, file: join(dir, 'vigil.db') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (seconds: number) => (seconds * 1000).toFixed(1);
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const cpuPer1000 = (w: Window) => (w.runs === 0 ? NaN : (w.cpuSeconds / w.runs) * 1000);
const thousands = (n: number) => n.toLocaleString('en-US');
function responseTimes(load: LoadResult): string {
  const failed = load.failed > 0 ? `, ${load.failed} failed (${Object.entries(load.errors).map(([why, n]) => `${why} ×${n}`).join(', ')})` : '';
  return `${percentile(load.latenciesMs, 50).toFixed(0)} / ${percentile(load.latenciesMs, 99).toFixed(0)}${failed}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000@10s,5000@10s,20000@60s' },
      warmup: { type: 'string', default: '15s' },
      duration: { type: 'string', default: '2m' },
      compare: { type: 'boolean', default: false },
      'status-requests': { type: 'string', default: '1000' },
      'status-at': { type: 'string', default: '1000' },
      days: { type: 'string', default: '30' },
      'growth-probes': { type: 'string', default: '1000' },
      'memory-limit-mb': { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').map((s) => {
    const [probes, interval = '10s'] = s.split('@');
    const n = Number(probes);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--sizes: "${s}" is not PROBES@INTERVAL, e.g. 5000@10s`);
    durationMs(interval, `--sizes ${s}`);
    return { probes: n, interval };
  });
  const warmupMs = durationMs(values.warmup, '--warmup');
  const duration = durationMs(values.duration, '--duration');
  const statusRequests = Number(values['status-requests']);
  const statusAt = Number(values['status-at']);
  const days = Number(values.days);

  const limitMb = values['memory-limit-mb'] === undefined ? null : Number(values['memory-limit-mb']);
  if (limitMb !== null && !(Number.isInteger(limitMb) && limitMb > 0)) throw new Error(`--memory-limit-mb: expected a whole number of MB, got "${values['memory-limit-mb']}"`);
  // Before the first child starts: each sizes its heap from the limit it starts under.
  const leaveLimit = limitMb === null ? () => undefined : enterMemoryLimit(limitMb * MB);
  if (limitMb !== null) process.stderr.write(`every process below runs under a memory limit of ${thousands(limitMb)} MB (their sum, as in one cgroup)\n`);

  const header = ['run', 'probes', 'runs/s', 'CPU-s per 1,000 runs', 'vigil / bare CPU', 'lag p50 ms', 'lag p99 ms', 'peak RSS MB', 'peak heap MB', 'store MB', 'response p50 / p99 ms'];
  const rows: string[][] = [];
  try {
    const targets = await startTargets();
    try {
      for (const { probes, interval } of sizes) {
        const job: FleetJob = { probes, interval, warmupMs, durationMs: duration, ports: targets.ports, statusRequests: probes === statusAt ? statusRequests : 0, sideBySide: values.compare };
        const rate = ((probes * 1000) / durationMs(interval, 'interval')).toFixed(0);
        let vigil: VigilResult;
        let ratio = '';
        let bareRow: string[] | null = null;
        if (values.compare) {
          process.stderr.write(`vigil and a bare undici loop, side by side: ${thousands(probes)} probes every ${interval}…\n`);
          let bare: Measured;
          [vigil, bare] = await together(startChild<VigilResult>('vigil', job), startChild<Measured>('bare', job));
          ratio = (cpuPer1000(vigil.window) / cpuPer1000(bare.window)).toFixed(2);
          bareRow = ['bare undici loop', thousands(probes), rate, cpuPer1000(bare.window).toFixed(3), '', ms(percentile(bare.window.lags, 50)), ms(percentile(bare.window.lags, 99)), mb(bare.rssBytes), mb(bare.heapBytes), '', ''];
        } else {
          process.stderr.write(`vigil: ${thousands(probes)} probes every ${interval}…\n`);
          vigil = await inChild<VigilResult>('vigil', job);
        }
        rows.push([`vigil, every ${interval}`, thousands(probes), rate, cpuPer1000(vigil.window).toFixed(3), ratio, ms(percentile(vigil.window.lags, 50)), ms(percentile(vigil.window.lags, 99)), mb(vigil.rssBytes), mb(vigil.heapBytes), mb(vigil.storeBytes), '']);
        if (bareRow) rows.push(bareRow);
        for (const s of vigil.status) {
          rows.push([`${thousands(statusRequests)} concurrent GET ${s.path}`, thousands(probes), rate, '', '', ms(percentile(s.window.lags, 50)), ms(percentile(s.window.lags, 99)), mb(s.rssBytes), '', '', responseTimes(s.load)]);
          if (values.compare) {
            const bytes = Math.round(s.load.bytes / Math.max(1, statusRequests - s.load.failed));
            process.stderr.write(`bare node:http server: ${thousands(statusRequests)} concurrent requests for ${thousands(bytes)} bytes…\n`);
            const floor = await inChild<LoadResult>('static', { bytes, requests: statusRequests });
            rows.push([`the same from a bare node:http server (${(bytes / 1024).toFixed(0)} KiB)`, '', '', '', '', '', '', '', '', '', responseTimes(floor)]);
          }
        }
      }
    } finally {
      targets.stop();
    }
    if (days > 0) {
      const probes = Number(values['growth-probes']);
      process.stderr.write(`store: ${thousands(probes)} probes over ${days} simulated days…\n`);
      const growth = await inChild<Growth>('growth', { probes, days });
      rows.push([`store after ${days} simulated days (${thousands(growth.incidents)} incidents)`, thousands(probes), '', '', '', '', '', '', '', mb(Math.max(growth.finalBytes, ...growth.bytesPerDay)), '']);
    }
  } finally {
    leaveLimit();
  }
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(`${table}\n`);
}

const roleAt = process.argv.indexOf('--role');
if (roleAt >= 0) {
  const role = process.argv[roleAt + 1];
  const job = JSON.parse(process.argv[roleAt + 2] ?? '{}') as never;
  const result =
    role === 'vigil'
      ? await vigilRole(job)
      : role === 'bare'
        ? await bareRole(job)
        : role === 'load'
          ? await concurrentGets((job as { url: string }).url, (job as { requests: number }).requests)
          : role === 'static'
            ? await staticRole(job)
            : await growthRole(job);
  process.send!({ result }, () => process.exit(0));
} else {
  await main();
}
