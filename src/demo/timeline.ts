// The demo's fault schedule as pure data: which faults are on at a moment, what changes next, and how it reads.
import { DemoError } from './errors.js';

export const FAULT_KINDS = ['compute_500', 'db_stopped', 'long_query', 'worker_unhealthy', 'queue_stuck', 'backup_late'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  /** From the start of a cycle, at speed 1. */
  atMs: number;
  durationMs: number;
  /** What breaks, for the banner and the fault lines ("compute API answers 500"). */
  what: string;
  /** What the fault looks like once it is over ("compute API answers 200 again"). */
  recovered: string;
  /** What vigil should make of it, for the banner. */
  expect: string;
}

export interface Timeline {
  faults: readonly Fault[];
  /** The schedule repeats after this long (at speed 1); every fault ends before it. */
  cycleMs: number;
}

const S = 1_000;

/**
 * The default schedule. Faults never overlap in a way that would make one the cause of another: the
 * long query starts after the database incident has had time to resolve, so each incident reads alone.
 * The first incident opens about 20 s in and resolves about 45 s in. The stuck queue and the late
 * backup come last, each alone.
 */
export const DEMO_TIMELINE: Timeline = {
  cycleMs: 290 * S,
  faults: [
    {
      kind: 'compute_500', atMs: 10 * S, durationMs: 25 * S,
      what: 'the compute API answers 500 (production and staging)',
      recovered: 'the compute API answers 200 again',
      expect: 'S2 incident on production; S3 on staging (its severity_cap)',
    },
    {
      kind: 'db_stopped', atMs: 40 * S, durationMs: 45 * S,
      what: 'PostgreSQL is stopped',
      recovered: 'PostgreSQL is running again',
      expect: 'S1 incident; backend health and the other DB probes join it as symptoms, no extra page',
    },
    {
      kind: 'long_query', atMs: 95 * S, durationMs: 35 * S,
      what: 'a report query runs and does not finish',
      recovered: 'the long query was cancelled',
      expect: 'S3 incident once it has run longer than older_than',
    },
    {
      kind: 'worker_unhealthy', atMs: 120 * S, durationMs: 25 * S,
      what: 'the worker container turns unhealthy',
      recovered: 'the worker container is healthy again',
      expect: 'S2 incident from docker compose ps over SSH',
    },
    {
      kind: 'queue_stuck', atMs: 155 * S, durationMs: 70 * S,
      what: 'the Celery worker stops taking tasks; the queue grows',
      recovered: 'the worker drained the Celery queue',
      expect: 'S2 "Generation pipeline stuck" once the queue has not shrunk for stuck_after',
    },
    {
      kind: 'backup_late', atMs: 230 * S, durationMs: 35 * S,
      what: 'the last two scheduled database backups never reached the bucket',
      recovered: 'the missing backups are in the bucket again',
      expect: 'S1 incident naming the newest backup, its age and size',
    },
  ],
};

/** The faults on at `elapsedMs` since the demo started, at `speed` (2 = twice as fast). */
export function activeFaults(timeline: Timeline, elapsedMs: number, speed = 1): Set<FaultKind> {
  const t = positionInCycle(timeline, elapsedMs, speed);
  return new Set(timeline.faults.filter((f) => t >= f.atMs && t < f.atMs + f.durationMs).map((f) => f.kind));
}

/** Where `elapsedMs` (real time) falls in the cycle, in speed-1 milliseconds. */
export function positionInCycle(timeline: Timeline, elapsedMs: number, speed = 1): number {
  const t = Math.max(0, elapsedMs) * speed;
  return t % timeline.cycleMs;
}

/** "0:45": a real offset since the demo started, for the banner and the fault lines. */
export function formatOffset(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/** The banner's schedule: one line per fault with its real start, length and what vigil should do. */
export function describeTimeline(timeline: Timeline, speed = 1): string[] {
  const lines = timeline.faults.map((f) => {
    const head = `t+${formatOffset(f.atMs / speed)}  ${f.what} for ${seconds(f.durationMs / speed)}`;
    return `${head.padEnd(66)} → ${f.expect}`;
  });
  lines.push(`then all is well until the schedule repeats at t+${formatOffset(timeline.cycleMs / speed)} (incidents then reopen).`);
  return lines;
}

export function faultOf(timeline: Timeline, kind: FaultKind): Fault {
  const fault = timeline.faults.find((f) => f.kind === kind);
  if (!fault) throw new DemoError(`no fault "${kind}" in the timeline`);
  return fault;
}

export const MIN_SPEED = 0.25;
export const MAX_SPEED = 20;

/** `--speed` / VIGIL_DEMO_SPEED: a number from 0.25 to 20; absent means 1. Throws DemoError. */
export function parseSpeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 1;
  const speed = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED) {
    throw new DemoError(`expected a speed from ${MIN_SPEED} to ${MAX_SPEED} (e.g. 10 runs the demo ten times faster), got ${JSON.stringify(text)}`);
  }
  return speed;
}
