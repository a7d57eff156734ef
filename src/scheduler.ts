// Decides when each probe runs: fixed-rate intervals spread over the period, cron schedules, no
// overlap per probe, a global concurrency cap, and a hard timeout that aborts the run.
import { createHash } from 'node:crypto';
import { createTask, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

export interface ScheduledProbe {
  id: string;
  intervalMs: number;
  schedule: string | null;
  timeoutMs: number;
}

/** Runs one probe; resolves when the run (and its bookkeeping) is over. Must honour `signal`. */
export type RunFn = (id: string, signal: AbortSignal, dueAt: number) => Promise<void>;

export interface SchedulerOptions {
  concurrency: number;
  run: RunFn;
  log: Logger;
  /** Seconds between when a run was due and when it started. */
  onLag?: (seconds: number) => void;
  /** A run that ignores its abort signal is abandoned this long after its timeout. */
  graceMs?: number;
  now?: () => number;
  random?: () => number;
}

export class TimeoutError extends Error {
  readonly code = 'VIGIL_ERR_TIMEOUT';
  constructor(ms: number) {
    super(`probe timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

interface Slot {
  probe: ScheduledProbe;
  timer: NodeJS.Timeout | null;
  cron: ScheduledTask | null;
  nextDue: number;
  running: boolean;
  queued: boolean;
  ranOnce: boolean;
  /** Bumped on every (re)schedule so stale timers of a replaced probe do nothing. */
  generation: number;
  /** The jitter of the pending timer, and its callback (made once per generation). */
  jitter: number;
  fire: (() => void) | null;
  fireGeneration: number;
}

interface Queued {
  slot: Slot;
  dueAt: number;
  generation: number;
}

/** Where in its period a probe first runs: a stable hash of its id, so a reload does not reshuffle. */
export function spreadOffset(id: string, periodMs: number): number {
  const h = createHash('sha1').update(id).digest().readUInt32BE(0);
  return Math.floor((h / 0x1_0000_0000) * periodMs);
}

export class Scheduler {
  readonly #opts: Required<Omit<SchedulerOptions, 'onLag'>> & Pick<SchedulerOptions, 'onLag'>;
  readonly #slots = new Map<string, Slot>();
  readonly #queue: Queued[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #controllers = new Set<AbortController>();
  #active = 0;
  /** Slots that have not completed a run yet, so that /healthz and /readyz need not walk the fleet. */
  #notRunYet = 0;
  #stopped = true;
  #watchdog: NodeJS.Timeout | null = null;
  #lastBeat = 0;
  skipped = 0;

  constructor(opts: SchedulerOptions) {
    this.#opts = { graceMs: 2_000, now: Date.now, random: Math.random, ...opts };
  }

  /** Starts (or, on reload, reconciles) the set of probes. Unchanged probes keep their timing. */
  schedule(probes: ScheduledProbe[]): void {
    this.#stopped = false;
    const wanted = new Map(probes.map((p) => [p.id, p]));
    for (const [id, slot] of this.#slots) {
      const next = wanted.get(id);
      if (!next) {
        this.#cancel(slot);
        this.#slots.delete(id);
        if (!slot.ranOnce) this.#notRunYet--;
      } else if (!sameTiming(slot.probe, next)) {
        this.#cancel(slot);
        slot.probe = next;
        this.#arm(slot, true);
      } else {
        slot.probe = next;
      }
    }
    for (const p of probes) {
      if (this.#slots.has(p.id)) continue;
      const slot: Slot = { probe: p, timer: null, cron: null, nextDue: 0, running: false, queued: false, ranOnce: false, generation: 0, jitter: 0, fire: null, fireGeneration: 0 };
      this.#slots.set(p.id, slot);
      this.#notRunYet++;
      this.#arm(slot, true);
    }
    if (!this.#watchdog) {
      this.#lastBeat = this.#opts.now();
      this.#watchdog = setInterval(() => (this.#lastBeat = this.#opts.now()), 1_000);
      this.#watchdog.unref();
    }
  }

  /** Runs the probe now, outside its timing (a heartbeat arrived); a no-op if it is unknown, queued or running. */
  runNow(id: string): void {
    const slot = this.#slots.get(id);
    if (!slot || slot.running || slot.queued) return;
    this.#due(slot, slot.generation, this.#opts.now());
  }

  /** True while the event loop turns and no queued run has waited longer than a minute. */
  healthy(): boolean {
    if (this.#stopped) return false;
    const now = this.#opts.now();
    if (now - this.#lastBeat > 10_000) return false;
    const oldest = this.#queue[0];
    return !oldest || now - oldest.dueAt < 60_000;
  }

  /** True once every scheduled probe has completed at least one run. */
  firstRoundDone(): boolean {
    return this.#notRunYet === 0;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Stops scheduling and waits for in-flight runs; runs still going after `waitMs` are aborted. */
  async stop(waitMs = 12_000): Promise<void> {
    this.#stopped = true;
    for (const slot of this.#slots.values()) this.#cancel(slot);
    this.#queue.length = 0;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const c of this.#controllers) c.abort(new Error('vigil is shutting down'));
        resolve();
      }, waitMs);
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    clearTimeout(timer);
    // After aborting, give the runs a moment to record their result.
    await Promise.race([Promise.allSettled([...this.#inFlight]), sleep(this.#opts.graceMs)]);
  }

  #arm(slot: Slot, first: boolean): void {
    const gen = ++slot.generation;
    const { probe } = slot;
    if (probe.schedule) {
      slot.cron = createTask(probe.schedule, (ctx) => this.#due(slot, gen, ctx.date.getTime()), { name: `vigil:${probe.id}` });
      void slot.cron.start();
      return;
    }
    const now = this.#opts.now();
    slot.nextDue = first ? now + spreadOffset(probe.id, probe.intervalMs) : slot.nextDue;
    this.#setTimer(slot, gen);
  }

  #setTimer(slot: Slot, gen: number): void {
    // A little jitter (≤ 1 % of the period, ≤ 1 s) keeps probes that share a target from marching in step.
    slot.jitter = Math.floor(this.#opts.random() * Math.min(1_000, slot.probe.intervalMs / 100));
    const delay = Math.max(0, slot.nextDue + slot.jitter - this.#opts.now());
    // One callback per (re)scheduling, not per run.
    if (slot.fire === null || slot.fireGeneration !== gen) {
      slot.fireGeneration = gen;
      slot.fire = () => this.#fire(slot, gen);
    }
    slot.timer = setTimeout(slot.fire, delay);
  }

  #fire(slot: Slot, gen: number): void {
    if (gen !== slot.generation || this.#stopped) return;
    const dueAt = slot.nextDue + slot.jitter;
    // Fixed rate without drift; after a long stall skip the missed slots instead of bursting.
    slot.nextDue += slot.probe.intervalMs;
    const now = this.#opts.now();
    if (slot.nextDue < now) slot.nextDue = now + slot.probe.intervalMs - ((now - slot.nextDue) % slot.probe.intervalMs);
    this.#setTimer(slot, gen);
    this.#due(slot, gen, dueAt);
  }

  #due(slot: Slot, gen: number, dueAt: number): void {
    if (this.#stopped || gen !== slot.generation) return;
    if (slot.running || slot.queued) {
      this.skipped++;
      this.#opts.log.warn({ probe: slot.probe.id }, 'probe still running at its next due time: run skipped');
      return;
    }
    slot.queued = true;
    this.#queue.push({ slot, dueAt, generation: gen });
    this.#drain();
  }

  #drain(): void {
    while (this.#active < this.#opts.concurrency && this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      item.slot.queued = false;
      if (item.generation !== item.slot.generation) continue;
      this.#start(item);
    }
  }

  #start({ slot, dueAt }: Queued): void {
    const started = this.#opts.now();
    this.#opts.onLag?.(Math.max(0, started - dueAt) / 1000);
    slot.running = true;
    this.#active++;
    const controller = new AbortController();
    this.#controllers.add(controller);
    const { timeoutMs, id } = slot.probe;
    let settled = false;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    // The run's end or its abandonment, whichever comes first; one timer covers both (a run is rarely late).
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#controllers.delete(controller);
      this.#inFlight.delete(done);
      slot.running = false;
      // A slot dropped by a reload while running was counted out then.
      if (!slot.ranOnce && this.#slots.get(slot.probe.id) === slot) this.#notRunYet--;
      slot.ranOnce = true;
      this.#active--;
      resolveDone();
      this.#drain();
    };
    let timer = setTimeout(() => {
      controller.abort(new TimeoutError(timeoutMs));
      timer = setTimeout(() => {
        this.#opts.log.error({ probe: id }, `probe ignored its timeout of ${timeoutMs} ms: run abandoned`);
        settle();
      }, this.#opts.graceMs);
    }, timeoutMs);
    this.#inFlight.add(done);
    this.#opts
      .run(id, controller.signal, dueAt)
      .catch((err: unknown) => this.#opts.log.error({ probe: id, err }, 'probe run failed unexpectedly'))
      .then(settle);
  }

  #cancel(slot: Slot): void {
    slot.generation++;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (slot.cron) void slot.cron.destroy();
    slot.cron = null;
  }
}

function sameTiming(a: ScheduledProbe, b: ScheduledProbe): boolean {
  return a.intervalMs === b.intervalMs && a.schedule === b.schedule;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
