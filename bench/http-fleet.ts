// Benchmark (not a test): the real daemon runs N http probes at a fixed interval against local
// targets served by a child process, and reports CPU per 1,000 runs, peak RSS, scheduler lag, store size.
// Usage: npm run build && node dist/bench/http-fleet.js [--probes 1000] [--interval 10s] [--duration 2m]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigText } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { parseDuration } from '../src/config/schema.js';

const TARGET_PORTS = 8;

if (process.argv[2] === '--serve-targets') {
  // Child process: the targets, so their CPU does not count against vigil.
  const ports: number[] = [];
  for (let i = 0; i < TARGET_PORTS; i++) {
    const srv = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.endsWith('/down') ? '{"status":"down"}' : '{"status":"ok"}');
    });
    srv.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    ports.push((srv.address() as { port: number }).port);
  }
  process.send!({ ports });
} else {
  await main();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { probes: { type: 'string', default: '1000' }, interval: { type: 'string', default: '10s' }, duration: { type: 'string', default: '2m' } },
  });
  const n = Number(values.probes);
  const intervalMs = parseDuration(values.interval)!;
  const durationMs = parseDuration(values.duration)!;
  const targets = fork(fileURLToPath(import.meta.url), ['--serve-targets'], { stdio: 'inherit' });
  const { ports } = await new Promise<{ ports: number[] }>((resolve) => targets.once('message', (m) => resolve(m as { ports: number[] })));
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const probes = Array.from({ length: n }, (_, i) => {
    // One probe in fifty watches a target that fails, so the engine and store do real work too.
    const path = i % 50 === 0 ? `/p${i}/down` : `/p${i}`;
    return `  - { id: p${i}, type: http, environment: bench, service: svc${i % 20}, url: "http://127.0.0.1:${ports[i % ports.length]}${path}", expect: { json: { status: ok } } }`;
  });
  const yaml = `server: { listen: "127.0.0.1:0" }
store: { path: ${join(dir, 'bench.db')} }
defaults: { interval: ${values.interval}, timeout: 5s, concurrency: 64 }
environments: { bench: {} }
probes:
${probes.join('\n')}
`;
  const config = loadConfigText(yaml, 'bench.yaml', {});
  const lags: number[] = [];
  const log = createLogger({ level: 'silent' });
  const cpu0 = process.cpuUsage();
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 250);
  const daemon = await Daemon.start({ config, log, version: 'bench', listen: false, onLag: (s) => lags.push(s) });
  await new Promise((r) => setTimeout(r, durationMs));
  const runs = lags.length;
  const cpu = process.cpuUsage(cpu0);
  const size = daemon.store.sizeBytes();
  await daemon.stop();
  clearInterval(sampler);
  targets.kill();
  rmSync(dir, { recursive: true, force: true });
  lags.sort((a, b) => a - b);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const result = {
    probes: n,
    interval_ms: intervalMs,
    duration_s: durationMs / 1000,
    runs,
    cpu_seconds: +cpuSeconds.toFixed(2),
    cpu_seconds_per_1000_runs: +((cpuSeconds / runs) * 1000).toFixed(3),
    peak_rss_mb: +(peakRss / 2 ** 20).toFixed(1),
    peak_heap_used_mb: +(peakHeap / 2 ** 20).toFixed(1),
    lag_p50_ms: +(percentile(lags, 50) * 1000).toFixed(2),
    lag_p99_ms: +(percentile(lags, 99) * 1000).toFixed(2),
    lag_max_ms: +((lags.at(-1) ?? 0) * 1000).toFixed(2),
    store_bytes: size,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
