// What the fleet benchmarks share: the local HTTP targets, the fleet's config, the daemon under
// measurement, and how CPU per run, scheduler lag and peak memory are read over a window.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigText } from '../src/config/load.js';
import { parseDuration } from '../src/config/schema.js';
import { Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const MB = 2 ** 20;

/** Probes in flight at once, for vigil (defaults.concurrency) and the bare loop alike. */
export const CONCURRENCY = 64;

export interface Targets {
  ports: number[];
  stop(): void;
}

/** Starts the targets (bench/targets.ts) in a child process. */
export async function startTargets(): Promise<Targets> {
  const child = fork(join(HERE, 'targets.js'), [], { stdio: 'inherit', execArgv: [] });
  const { ports } = await new Promise<{ ports: number[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { ports: number[] }));
    child.once('exit', (code) => reject(new Error(`the targets process exited with ${code}`)));
  });
  return { ports, stop: () => child.kill() };
}

/** Probe i's target: one probe in fifty watches a failing one, so the engine and store do real work too. */
export function targetPath(i: number): string {
  return i % 50 === 0 ? `/p${i}/down` : `/p${i}`;
}

export function targetPort(ports: readonly number[], i: number): number {
  return ports[i % ports.length]!;
}

export interface FleetSpec {
  probes: number;
  /** As in the config, e.g. "10s". */
  interval: string;
  ports: readonly number[];
  storePath: string;
  /** Listen on an ephemeral port (for requests from outside); else the app is only built. */
  listen?: boolean;
  /** store.retention, e.g. "90d" (the default when absent). */
  retention?: string;
}

export function fleetYaml(spec: FleetSpec): string {
  const probes = Array.from(
    { length: spec.probes },
    (_, i) =>
      `  - { id: p${i}, type: http, environment: bench, service: svc${i % 20}, url: "http://127.0.0.1:${targetPort(spec.ports, i)}${targetPath(i)}", expect: { json: { status: ok } } }`,
  );
  return `server: { listen: "127.0.0.1:0" }
store: { path: ${spec.storePath}${spec.retention ? `, retention: ${spec.retention}` : ''} }
defaults: { interval: ${spec.interval}, timeout: 5s, concurrency: ${CONCURRENCY} }
environments: { bench: {} }
probes:
${probes.join('\n')}
`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function durationMs(text: string, what: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${what}: "${text}" is not a duration like 30s or 2m`);
  return ms;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One measured window: runs started in it, the process's CPU spent, every run's lag (s, sorted). */
export interface Window {
  seconds: number;
  runs: number;
  cpuSeconds: number;
  lags: number[];
}

/** Collects scheduler lag (seconds per run) and measures windows of it together with CPU. */
export class Meter {
  #lags: number[] = [];
  readonly onLag = (seconds: number): void => {
    this.#lags.push(seconds);
  };

  /** Waits `warmupMs` (discarded), then measures for `durationMs`. */
  async window(warmupMs: number, durationMs: number): Promise<Window> {
    await sleep(warmupMs);
    return this.measure(() => sleep(durationMs));
  }

  /** Measures while `during` runs. */
  async measure(during: () => Promise<unknown>): Promise<Window> {
    this.#lags = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await during();
    const cpu = process.cpuUsage(cpu0);
    const lags = this.#lags.sort((a, b) => a - b);
    this.#lags = [];
    return { seconds: (performance.now() - t0) / 1000, runs: lags.length, cpuSeconds: (cpu.user + cpu.system) / 1e6, lags };
  }
}

/** The process's peak resident set (from the kernel) and the peak of V8's used heap (sampled). */
export class MemoryPeaks {
  #heap = 0;
  readonly #timer = setInterval(() => {
    this.#heap = Math.max(this.#heap, process.memoryUsage().heapUsed);
  }, 100);

  read(): { rssBytes: number; heapBytes: number } {
    this.#heap = Math.max(this.#heap, process.memoryUsage().heapUsed);
    return { rssBytes: process.resourceUsage().maxRSS * 1024, heapBytes: this.#heap };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Starts the real daemon on the fleet, silent, with its scheduler lag going to `meter`. */
export async function startFleetDaemon(spec: FleetSpec, meter: Meter): Promise<Daemon> {
  const config = loadConfigText(fleetYaml(spec), 'bench.yaml', {});
  const log = createLogger({ level: 'silent' });
  return Daemon.start({ config, log, version: 'bench', listen: spec.listen ?? false, onLag: meter.onLag });
}
