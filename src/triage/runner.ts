// Triage of incidents as they open: holds their first messages, gathers, records the evidence, releases the messages with a summary.
import type { Logger } from 'pino';
import type { CommandResult, EvidenceCommand } from '../incidents/state.js';
import { CONSOLE_SINK, DISCORD_SINK, type Route } from '../notify/route.js';
import type { Store } from '../store/store.js';
import type { Transports } from '../transport/index.js';
import type { IncidentEvent } from '../types.js';
import { gatherTriage, TRIAGE_BUDGET_MS } from './gather.js';
import type { TriageStep } from './plan.js';

/**
 * How long an incident's first messages are held in the store: the budget plus a margin, so a
 * triage bounded by the budget always releases them first. Only if vigil dies while gathering does
 * this time apply: the page then goes out without a summary, but it goes out, exactly once.
 */
export const TRIAGE_HOLD_MS = TRIAGE_BUDGET_MS + 2_000;

/** Events whose incident just started paging (under its current root): the ones triage runs for. */
export function startsTriage(event: Pick<IncidentEvent, 'type' | 'held'>): boolean {
  return (event.type === 'opened' || event.type === 'reopened' || event.type === 'handed_over') && event.held !== true;
}

/**
 * Whether this delivery of an opening waits for the triage summary: the #errors/#warnings embed and
 * the console line carry it; the #ops line's wording is fixed (docs/messages.md) and goes out at once.
 */
export function waitsForTriage(route: Pick<Route, 'sink' | 'channel'>): boolean {
  return route.sink === CONSOLE_SINK || (route.sink === DISCORD_SINK && route.channel !== 'ops');
}

/** The stored body with the summary beside the event (Discord) or the console line's fields. */
export function withTriage(body: unknown, summary: string): unknown {
  if (summary === '' || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return { ...(body as Record<string, unknown>), triage: summary };
}

export interface TriageRunnerOptions {
  transports: Transports;
  store: Pick<Store, 'releaseMessages'>;
  log: Logger;
  now?: () => number;
  /** Records the evidence through the engine, which stays the only writer of incident state. */
  record: (cmd: EvidenceCommand) => CommandResult;
  /** Makes the outbox look at the released messages now. */
  kick: () => void;
  budgetMs?: number;
}

export class TriageRunner {
  readonly #opts: TriageRunnerOptions;
  readonly #now: () => number;
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(opts: TriageRunnerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Starts triage of an incident in the background; `held` are its stored messages waiting for it. */
  start(incidentId: number, steps: readonly TriageStep[], held: readonly number[]): void {
    if (this.#stop.signal.aborted) return;
    const run = this.#run(incidentId, steps, held)
      // Gathering is written never to throw; if it did, the held messages still go out at their time.
      .catch((err: unknown) => this.#opts.log.error({ incident_id: incidentId, err }, 'triage failed unexpectedly'))
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  /** Resolves when every triage started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /**
   * Cuts every triage short without writing anything more: the store may be closing. Messages still
   * held go out at their hold time, from this process or the next.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.idle();
  }

  async #run(incidentId: number, steps: readonly TriageStep[], held: readonly number[]): Promise<void> {
    const { log } = this.#opts;
    const started = this.#now();
    const result = await gatherTriage(steps, {
      transports: this.#opts.transports,
      log,
      now: this.#now,
      signal: this.#stop.signal,
      ...(this.#opts.budgetMs === undefined ? {} : { budgetMs: this.#opts.budgetMs }),
    });
    if (this.#stop.signal.aborted) return;
    try {
      const recorded = this.#opts.record({ type: 'evidence', incidentId, items: result.evidence });
      if (!recorded.ok) log.warn({ incident_id: incidentId, reason: recorded.message }, 'triage evidence not recorded');
    } catch (err) {
      log.error({ err, incident_id: incidentId }, 'triage evidence not recorded');
    }
    try {
      const released = this.#opts.store.releaseMessages(held, this.#now(), (body) => withTriage(body, result.summary));
      if (released > 0) this.#opts.kick();
    } catch (err) {
      // They stay held until their hold time, then go out without the summary.
      log.error({ err, incident_id: incidentId }, 'triage could not release the held messages');
    }
    log.info(
      { incident_id: incidentId, steps: steps.length, failed: result.failed, unfinished: result.unfinished, duration_ms: this.#now() - started },
      'triage gathered',
    );
  }
}
