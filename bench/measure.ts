// What every fleet benchmark measures with: the local HTTP targets, and how CPU per run, scheduler lag
// and peak memory are read over a window. Nothing of vigil's daemon is imported here, so a process that
// runs only the bare loop (bare-loop.ts) holds only what a bare loop needs.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../src/duration.js';

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

