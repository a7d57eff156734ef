// A redis probe's own memory of its queues across runs (like a latency window): how long each has gone without shrinking; pure judgement of one queue.
import type { Severity } from '../types.js';
import { formatAge, formatLimit } from './pg-common.js';

export interface QueueTrend {
  length: number;
  /** When the queue was last seen empty or shorter than before: the start of its current stall. */
  since: number;
}

/** Empty, new or shorter than last time: the clock restarts; equal or longer: the stall goes on. */
export function nextTrend(previous: QueueTrend | undefined, length: number, now: number): QueueTrend {
  if (previous === undefined || length === 0 || length < previous.length || now < previous.since) return { length, since: now };
  return { length, since: previous.since };
}

/**
 * Trends per probe id and queue key, in memory: a restart forgets them, and a stall is then
 * measured again from the first run after it. A probe's entry is replaced by each of its runs,
 * so queues removed from the config are forgotten.
 */
export class QueueHistory {
  readonly #byProbe = new Map<string, Map<string, QueueTrend>>();

  /** Records this run's lengths (queues not measured keep their trend) and returns the trends. */
  observe(probeId: string, lengths: ReadonlyMap<string, number>, keys: readonly string[], now: number): Map<string, QueueTrend> {
    const previous = this.#byProbe.get(probeId);
    const next = new Map<string, QueueTrend>();
    for (const key of keys) {
      const length = lengths.get(key);
      const before = previous?.get(key);
      if (length !== undefined) next.set(key, nextTrend(before, length, now));
      else if (before) next.set(key, before);
    }
    this.#byProbe.set(probeId, next);
    return next;
  }

  forget(probeId: string): void {
    this.#byProbe.delete(probeId);
  }
}

export interface QueueRule {
  key: string;
  pending_above?: number | undefined;
  stuck_after?: number | undefined;
  severity?: Severity | undefined;
}

export interface QueueJudgement {
  ok: boolean;
  severity: Severity;
  message: string;
  values: Record<string, number>;
}

/** A queue longer than pending_above, or not empty and not shrinking for stuck_after, fails. */
export function judgeQueue(rule: QueueRule, trend: QueueTrend, now: number, probeSeverity: Severity): QueueJudgement {
  const { length } = trend;
  const stalledMs = length > 0 ? Math.max(0, now - trend.since) : 0;
  const stalled = formatAge(stalledMs / 1000);
  const tasks = `${length} ${length === 1 ? 'task' : 'tasks'}`;
  const problems: string[] = [];
  if (rule.stuck_after !== undefined && length > 0 && stalledMs >= rule.stuck_after) {
    problems.push(`queue "${rule.key}" holds ${tasks} and has not shrunk for ${stalled} (stuck_after ${formatLimit(rule.stuck_after)}): nothing is taking tasks off it`);
  }
  if (rule.pending_above !== undefined && length > rule.pending_above) {
    problems.push(`queue "${rule.key}" holds ${tasks}, more than ${rule.pending_above} pending`);
  }
  const values = { length, stalled_seconds: stalledMs / 1000 };
  const severity = rule.severity ?? probeSeverity;
  if (problems.length > 0) {
    return { ok: false, severity, message: problems.join('; '), values };
  }
  const trendText = length === 0 ? 'empty' : stalledMs > 0 ? `${tasks}, not shrinking for ${stalled}` : `${tasks}`;
  return { ok: true, severity, message: `queue "${rule.key}": ${trendText}`, values };
}
