// Benchmark (not a test) for a noisy machine: what one probe run costs in bytes allocated and what a
// probe keeps in the heap, numbers that do not depend on what else the machine is doing. The real
// daemon (or, with --bare, the bare undici loop of bench/bare-loop.ts) runs a fleet against the local
// targets; after a warm-up, a full GC gives the live heap; then the young generation is made big enough
// that no GC runs in the window, so the heap's growth over the window is every byte allocated in it.
// Usage: npm run build && node dist/bench/run-cost.js [--probes 1000] [--interval 10s] [--warmup 15s]
//        [--duration 10s] [--bare] [--snapshot FILE.heapsnapshot] [--allocations FILE.heapsnapshot]
// (--allocations records where every object allocated in the window was allocated, as the trace
// tree of a heap snapshot; the tracking slows the process, so take a shorter window with it.)
// --promoted keeps V8's own young generation and measures instead how fast the old generation grows
// per run (what outlives two scavenges: the garbage that only a full GC frees). The growth is summed
// between samples 20 ms apart, so the full GCs that run in the window do not hide it. It sets how
// often V8 collects the old generation and, through V8's growing factor (up to 4x the live heap when
// the old generation grows fast relative to how fast V8 marks), the peak heap.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as perf, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { startBareLoop } from './bare-loop.js';
import { durationMs, MB, Meter, sleep, startTargets } from './measure.js';

/** Young generation (per semi-space) big enough that a window of runs fits without a scavenge. */
const SEMI_SPACE_MB = 256;

interface Job {
  probes: number;
  interval: string;
  warmupMs: number;
  durationMs: number;
  bare: boolean;
  snapshot: string | null;
  allocations: string | null;
  promoted: boolean;
}

interface Result {
  runs: number;
  liveHeapMb: number;
  allocatedKbPerRun: number;
  gcsInWindow: number;
  /** With --promoted: the old generation's growth per run, and the full GCs that ran in the window. */
  promotedKbPerRun?: number;
  fullGcsInWindow?: number;
  promotedMbPerSecond?: number;
  cpuMsPerRun: number;
}

/** Bytes used outside the young generation. */
function oldGeneration(): number {
  return getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith('new_'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
}

const gc = (): void => (globalThis as { gc?: () => void }).gc!();

async function measure(job: Job): Promise<Result> {
  const targets = await startTargets();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-run-cost-'));
  const meter = new Meter();
  let stop: () => Promise<unknown>;
  if (job.bare) {
    const stopLoop = startBareLoop({ probes: job.probes, intervalMs: durationMs(job.interval, 'interval'), ports: targets.ports, onLag: meter.onLag });
    stop = stopLoop;
  } else {
    // Only here is the daemon loaded: with --bare, the process holds what a bare loop needs and no more.
    const { startFleetDaemon } = await import('./fleet.js');
    const daemon = await startFleetDaemon({ probes: job.probes, interval: job.interval, ports: targets.ports, storePath: join(dir, 'bench.db') }, meter);
    stop = () => daemon.stop();
  }
  await sleep(job.warmupMs);
  gc();
  gc();
  const liveHeap = process.memoryUsage().heapUsed;
  if (job.snapshot) writeHeapSnapshot(job.snapshot);
  let gcs = 0;
  const kinds: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    // Incremental marking steps and weak callbacks free nothing; a scavenge or a full GC would.
    gcs = kinds.filter((k) => k === perf.NODE_PERFORMANCE_GC_MINOR || k === perf.NODE_PERFORMANCE_GC_MAJOR).length;
  });
  gc();
  observer.observe({ entryTypes: ['gc'] });
  let session: Session | null = null;
  if (job.allocations) {
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  }
  const before = process.memoryUsage().heapUsed;
  // The old generation's growth, summed: a full GC in the window lowers it, which a difference of the
  // ends would take for less promotion.
  let oldLast = oldGeneration();
  let oldGrowth = 0;
  const sampleOld = (): void => {
    const now = oldGeneration();
    if (now > oldLast) oldGrowth += now - oldLast;
    oldLast = now;
  };
  const sampler = job.promoted ? setInterval(sampleOld, 20) : null;
  const window = await meter.measure(() => sleep(job.durationMs));
  const after = process.memoryUsage().heapUsed;
  if (sampler) {
    clearInterval(sampler);
    sampleOld();
  }
  if (session && job.allocations) {
    const chunks: string[] = [];
    session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
    await session.post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
    writeFileSync(job.allocations, chunks.join(''));
    session.disconnect();
  }
  // Entries of the window arrive asynchronously.
  await sleep(50);
  observer.disconnect();
  await stop();
  targets.stop();
  rmSync(dir, { recursive: true, force: true });
  const runs = Math.max(1, window.runs);
  const promoted = job.promoted
    ? {
        promotedKbPerRun: +(oldGrowth / runs / 1024).toFixed(2),
        promotedMbPerSecond: +(oldGrowth / MB / (job.durationMs / 1000)).toFixed(2),
        fullGcsInWindow: kinds.filter((k) => k === perf.NODE_PERFORMANCE_GC_MAJOR).length,
      }
    : {};
  return {
    ...promoted,
    runs: window.runs,
    liveHeapMb: +(liveHeap / MB).toFixed(2),
    allocatedKbPerRun: +((after - before) / runs / 1024).toFixed(2),
    gcsInWindow: gcs,
    cpuMsPerRun: +((window.cpuSeconds / runs) * 1000).toFixed(3),
  };
}

const { values } = parseArgs({
  options: {
    probes: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10s' },
    warmup: { type: 'string', default: '15s' },
    duration: { type: 'string', default: '10s' },
    bare: { type: 'boolean', default: false },
    snapshot: { type: 'string' },
    allocations: { type: 'string' },
    promoted: { type: 'boolean', default: false },
    role: { type: 'string' },
  },
});
const job: Job = {
  probes: Number(values.probes),
  interval: values.interval,
  warmupMs: durationMs(values.warmup, '--warmup'),
  durationMs: durationMs(values.duration, '--duration'),
  bare: values.bare,
  snapshot: values.snapshot ?? null,
  allocations: values.allocations ?? null,
  promoted: values.promoted,
};
if (values.role === 'measure') {
  const result = await measure(job);
  process.send!(result, () => process.exit(0));
} else {
  // In a child of its own: the flags that make the window GC-free and the heap readable.
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--role', 'measure'], {
    execArgv: ['--expose-gc', ...(job.promoted ? [] : [`--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`])],
  });
  const result = await new Promise<Result>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Result));
    child.once('exit', (code) => reject(new Error(`the measuring process exited with ${code}`)));
  });
  if (!job.promoted && result.gcsInWindow > 0) process.stderr.write(`${result.gcsInWindow} GCs ran in the window: allocatedKbPerRun is a lower bound; shorten --duration\n`);
  process.stdout.write(`${JSON.stringify({ probes: job.probes, interval: job.interval, bare: job.bare, ...result })}\n`);
}
