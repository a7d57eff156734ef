// The dead man's switch: pings Better Stack's heartbeat URL only while vigil itself works, so its silence pages.
import type { Logger } from 'pino';
import { request } from 'undici';
import type { Metrics } from './metrics.js';

export type HeartbeatOutcome = 'sent' | 'failed' | 'withheld';

export interface HeartbeatHealth {
  ok: boolean;
  /** Why not, in an operator's words ("scheduler is behind", "store does not write"). */
  reason?: string;
}

export interface HeartbeatOptions {
  /** Secret: the heartbeat's token is in its path; never logged. */
  url: string;
  intervalMs: number;
  /** Asked before each ping; a ping is sent only when vigil can still watch and record. */
  health: () => HeartbeatHealth;
  log: Logger;
  metrics?: Pick<Metrics, 'heartbeats'>;
  timeoutMs?: number;
}

export class Heartbeat {
  readonly #opts: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #withheld = false;
  #failing = false;
  #inFlight: Promise<HeartbeatOutcome> | null = null;
  /** Aborts the ping in flight at stop(): a slow ingest must not eat SIGTERM's 15 s budget. */
  #stopping = new AbortController();

  constructor(opts: HeartbeatOptions) {
    this.#opts = opts;
  }

  /** Beats once now, then every interval. */
  start(): void {
    if (this.#timer) return;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort();
    await this.#inFlight;
  }

  /** One interval's decision: ping, or stay silent so Better Stack notices. Never throws. */
  beat(): Promise<HeartbeatOutcome> {
    if (this.#inFlight) return this.#inFlight; // a slow ping is not stacked up behind
    this.#inFlight = this.#beat().finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  async #beat(): Promise<HeartbeatOutcome> {
    const { log } = this.#opts;
    let health: HeartbeatHealth;
    try {
      health = this.#opts.health();
    } catch (err) {
      health = { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
    if (!health.ok) {
      if (!this.#withheld) log.error({ reason: health.reason }, `heartbeat withheld: ${health.reason ?? 'vigil is unhealthy'}; Better Stack pages if this lasts`);
      this.#withheld = true;
      return this.#count('withheld');
    }
    if (this.#withheld) log.info('vigil is healthy again: heartbeat resumed');
    this.#withheld = false;
    const timeout = this.#opts.timeoutMs ?? Math.min(10_000, this.#opts.intervalMs);
    try {
      const res = await request(this.#opts.url, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.any([AbortSignal.timeout(timeout), this.#stopping.signal]) });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`heartbeat answered ${res.statusCode}`);
      if (this.#failing) log.info('heartbeat delivered again');
      this.#failing = false;
      return this.#count('sent');
    } catch (err) {
      // The URL holds the token: only the reason is logged, never the URL or an error that may quote it.
      if (this.#stopping.signal.aborted) return 'failed'; // cut short by stop(): nothing went wrong
      const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
      const reason = err instanceof Error && /^heartbeat answered/.test(err.message) ? err.message : typeof code === 'string' ? code : typeof name === 'string' ? name : 'request failed';
      if (!this.#failing) log.warn({ reason }, 'heartbeat ping failed');
      this.#failing = true;
      return this.#count('failed');
    }
  }

  #count(outcome: HeartbeatOutcome): HeartbeatOutcome {
    this.#opts.metrics?.heartbeats.inc({ outcome });
    return outcome;
  }
}
