// The `http` probe's p99 over its own recent runs: a bounded window of latencies kept between runs.
import type { Finding } from '../types.js';
import type { ProbeMemory } from './contract.js';
import { formatLatency, seconds } from './http-report.js';
import { formatLimit } from './pg-common.js';

/** Fewer runs than this in the window say nothing about a 99th percentile: the finding waits. */
export const MIN_SAMPLES = 5;
/** A window never holds more than this many runs (a 1 s interval over 15 minutes); the oldest go first. */
export const MAX_SAMPLES = 1_000;

interface Sample {
  at: number;
  ms: number;
}

export interface P99Rule {
  above: number;
  window: number;
  severity: NonNullable<Finding['severity']>;
}

/**
 * Adds this run's latency to the probe's window and judges its p99 (nearest rank: the smallest
 * latency at or above 99 % of the runs). Below 100 runs that is the slowest run in the window, so a
 * single slow answer fails it until it ages out of the window; below MIN_SAMPLES runs it passes and
 * says it is still gathering. Without memory (a one-off run) there is no window to judge.
 */
export function p99Finding(key: string, memory: ProbeMemory | undefined, rule: P99Rule, at: number, latencyMs: number): Finding {
  if (!memory) return { key, ok: true, message: `p99 is judged over the probe's runs in the daemon; this single run took ${formatLatency(latencyMs)}` };
  const samples = (memory.get('p99') as Sample[] | undefined) ?? [];
  samples.push({ at, ms: latencyMs });
  const fresh = samples.filter((s) => s.at > at - rule.window).slice(-MAX_SAMPLES);
  memory.set('p99', fresh);
  const window = formatLimit(rule.window);
  if (fresh.length < MIN_SAMPLES) {
    return { key, ok: true, message: `p99 needs ${MIN_SAMPLES} runs in the last ${window}; ${fresh.length} so far`, values: { samples: fresh.length } };
  }
  const sorted = fresh.map((s) => s.ms).sort((a, b) => a - b);
  const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
  const text = `p99 ${formatLatency(p99)} over ${sorted.length} runs in the last ${window} (limit ${formatLatency(rule.above)})`;
  const ok = p99 <= rule.above;
  const finding: Finding = { key, ok, message: ok ? text : `slow: ${text}`, values: { p99_seconds: seconds(p99), samples: sorted.length } };
  if (!ok) {
    finding.severity = rule.severity;
    finding.evidence = `slowest runs: ${sorted.slice(-5).reverse().map(formatLatency).join(', ')}`;
  }
  return finding;
}
