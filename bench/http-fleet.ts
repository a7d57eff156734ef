// Benchmark (not a test): the real daemon runs N http probes at a fixed interval against local
// targets served by a child process, and reports CPU per 1,000 runs, peak RSS, scheduler lag, store size.
// Usage: npm run build && node dist/bench/http-fleet.js [--probes 1000] [--interval 10s] [--warmup 10s] [--duration 2m]
// (bench/fleet-scale.ts runs several fleet sizes, the bare undici loop and /status under load in one table.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFleetDaemon } from './fleet.js';
import { durationMs, MB, MemoryPeaks, Meter, percentile, startTargets } from './measure.js';

const { values } = parseArgs({
  options: {
    probes: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10s' },
    warmup: { type: 'string', default: '10s' },
    duration: { type: 'string', default: '2m' },
  },
});
const probes = Number(values.probes);
const peaks = new MemoryPeaks();
const targets = await startTargets();
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const meter = new Meter();
const daemon = await startFleetDaemon({ probes, interval: values.interval, ports: targets.ports, storePath: join(dir, 'bench.db') }, meter);
const w = await meter.window(durationMs(values.warmup, '--warmup'), durationMs(values.duration, '--duration'));
const size = daemon.store.sizeBytes();
await daemon.stop();
const memory = peaks.read();
peaks.stop();
targets.stop();
rmSync(dir, { recursive: true, force: true });
const result = {
  probes,
  interval_ms: durationMs(values.interval, '--interval'),
  duration_s: +w.seconds.toFixed(1),
  runs: w.runs,
  cpu_seconds: +w.cpuSeconds.toFixed(2),
  cpu_seconds_per_1000_runs: +((w.cpuSeconds / w.runs) * 1000).toFixed(3),
  peak_rss_mb: +(memory.rssBytes / MB).toFixed(1),
  peak_heap_used_mb: +(memory.heapBytes / MB).toFixed(1),
  lag_p50_ms: +(percentile(w.lags, 50) * 1000).toFixed(2),
  lag_p99_ms: +(percentile(w.lags, 99) * 1000).toFixed(2),
  lag_max_ms: +((w.lags.at(-1) ?? 0) * 1000).toFixed(2),
  store_bytes: size,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
