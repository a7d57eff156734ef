// The outbox: delivers stored messages to their sinks in order per channel, with retry, backoff and dead letters.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { DeliveryResult, OutboundMessage, Sink } from '../types.js';
import { MAX_UNANSWERED, OutboxError, backoffMs, maybeSent, redactUrls, type NotificationOutcome, type SinkResult } from './delivery.js';

export { BACKOFF, OutboxError, backoffMs, redactUrls, type NotificationOutcome, type SinkOutcome, type SinkResult } from './delivery.js';

/**
 * Due times, kept in memory because the Store contract does not return them: the store hides a
 * message not yet due, and without this its channel's next message would overtake it. `attempts`,
 * which the SQLite store returns, keeps the backoff growing across restarts.
 */
interface RetryState {
  attempts: number;
  unanswered: number;
  nextAttemptAt: number;
  channel: string;
}
type PendingMessage = OutboundMessage & { attempts?: number; unanswered?: number };
/** An attempt's result, knowing whether a failure may still have reached the peer. */
type AttemptResult = SinkResult & { unanswered?: boolean };

/**
 * Long enough for a slow Discord to answer: giving up on a request the peer is still handling is
 * what turns into a duplicate page.
 */
export const DELIVERY_TIMEOUT_MS = 30_000;

function channelKey(msg: OutboundMessage): string {
  return `${msg.sink}\u0000${msg.channel}`;
}

export interface OutboxOptions {
  store: Store;
  sinks: ReadonlyMap<string, Sink>;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
  /** A message still undelivered this long after it was created is given up (dead letter). */
  maxAgeMs: number;
  /** How often stored messages are looked at when nobody kicks. */
  pollMs: number;
  /** One delivery attempt is abandoned (and retried later, at most once more) after this long; default 30 s. */
  deliveryTimeoutMs?: number;
  /** How long stop() lets an in-flight delivery finish before aborting it. */
  stopTimeoutMs?: number;
  /** Messages read from the store per pass. */
  batchSize?: number;
  /** Delay before retry number `attempt` (0-based); tests pin it. */
  backoff?: (attempt: number) => number;
  /**
   * Asked before each send: false stops sending at once (a replica that no longer leads must not
   * send what the new leader now sends). Default: always.
   */
  mayDeliver?: () => boolean;
}

export interface OutboxPass {
  delivered: number;
  failed: number;
  dead: number;
}

type Outcome = keyof OutboxPass;

/** Which pass count an outcome label belongs to. */
const PASS_COUNT: Record<NotificationOutcome, Outcome> = {
  delivered: 'delivered',
  failed: 'failed',
  rate_limited: 'failed',
  dead: 'dead',
  webhook_dead: 'dead',
  rejected: 'dead',
  unanswered: 'failed',
};

function sleep(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export class Outbox {
  readonly #store: Store;
  readonly #sinks: ReadonlyMap<string, Sink>;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #pollMs: number;
  readonly #deliveryTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #batchSize: number;
  readonly #backoff: (attempt: number) => number;
  readonly #mayDeliver: () => boolean;
  readonly #retry = new Map<number, RetryState>();
  readonly #inFlight = new Set<AbortController>();
  /** The running worker of each (sink, channel): at most one, so each channel stays in order. */
  readonly #workers = new Map<string, Promise<void>>();
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;

  constructor(opts: OutboxOptions) {
    this.#store = opts.store;
    this.#sinks = opts.sinks;
    this.#metrics = opts.metrics;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#maxAgeMs = opts.maxAgeMs;
    this.#pollMs = opts.pollMs;
    this.#deliveryTimeoutMs = opts.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
    this.#batchSize = opts.batchSize ?? 500;
    this.#backoff = opts.backoff ?? backoffMs;
    this.#mayDeliver = opts.mayDeliver ?? (() => true);
  }

  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Deliver soon: called after the engine's changes (and their messages) are applied. */
  kick(): void {
    if (!this.#started || this.#stopping) return;
    this.#schedule(0);
  }

  /** Stops polling and waits for the deliveries in flight, aborting them after stopTimeoutMs. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const idle = () => this.#chain.then(() => Promise.all([...this.#workers.values()]));
    const wait = sleep(this.#stopTimeoutMs);
    const finished = await Promise.race([idle().then(() => true), wait.promise.then(() => false)]);
    wait.cancel();
    if (!finished) {
      this.#log.warn({ in_flight: this.#inFlight.size }, 'outbox: delivery still running at shutdown, aborting it');
      for (const controller of this.#inFlight) {
        controller.abort(new OutboxError('VIGIL_ERR_OUTBOX_SHUTDOWN', 'delivery interrupted by shutdown'));
      }
      await idle();
    }
  }

  /** One pass over the stored messages, waiting for the channels it started; passes never overlap. */
  runOnce(): Promise<OutboxPass> {
    const pass = this.#chain.then(async () => {
      const counts: OutboxPass = { delivered: 0, failed: 0, dead: 0 };
      await Promise.all(this.#dispatch(counts));
      return counts;
    });
    this.#chain = pass;
    return pass;
  }

  /** Passes until one changes nothing: everything due is delivered, failed for later, or dead. */
  async drain(maxPasses = 100): Promise<OutboxPass> {
    const total: OutboxPass = { delivered: 0, failed: 0, dead: 0 };
    for (let i = 0; i < maxPasses; i++) {
      const pass = await this.runOnce();
      total.delivered += pass.delivered;
      total.failed += pass.failed;
      total.dead += pass.dead;
      if (pass.delivered + pass.dead === 0) break;
    }
    return total;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), Math.max(0, delayMs));
    // Waiting to poll must not keep a process alive; a kick or a delivery in flight does.
    if (delayMs > 0) this.#timer.unref();
  }

  /** Starts a worker for every channel with due messages and none running, then sleeps until the next due time. */
  async #tick(): Promise<void> {
    if (this.#stopping) return;
    const dispatched = this.#chain.then(() => {
      this.#dispatch({ delivered: 0, failed: 0, dead: 0 });
    });
    this.#chain = dispatched;
    await dispatched;
    if (this.#stopping) return;
    let delay = this.#pollMs;
    const now = this.#now();
    for (const retry of this.#retry.values()) {
      if (retry.nextAttemptAt > now) delay = Math.min(delay, retry.nextAttemptAt - now);
    }
    this.#schedule(delay);
  }

  /**
   * Reads the due messages and starts one worker per (sink, channel) that has none running, so a
   * backlog on one channel never holds back a page on another. Returns the workers it started.
   */
  #dispatch(counts: OutboxPass): Array<Promise<void>> {
    const started: Array<Promise<void>> = [];
    try {
      const pending = this.#store.pendingMessages(this.#batchSize) as PendingMessage[];
      // Messages of one (sink, channel) go out strictly in id order; channels do not wait for each other.
      const channels = new Map<string, PendingMessage[]>();
      for (const msg of [...pending].sort((a, b) => a.id - b.id)) {
        const queue = channels.get(channelKey(msg));
        if (queue) queue.push(msg);
        else channels.set(channelKey(msg), [msg]);
      }
      // A message the store hides until it is due still holds back the rest of its channel.
      const now = this.#now();
      const listed = new Set(pending.map((m) => m.id));
      const held = new Set<string>();
      for (const [id, retry] of this.#retry) if (retry.nextAttemptAt > now && !listed.has(id)) held.add(retry.channel);
      for (const [key, queue] of channels) {
        if (held.has(key) || this.#workers.has(key)) continue;
        const own: OutboxPass = { delivered: 0, failed: 0, dead: 0 };
        const worker = this.#deliverChannel(queue, own)
          .catch((err: unknown) => this.#log.error({ err: redactUrls(String(err)) }, 'outbox: channel worker failed'))
          .finally(() => {
            this.#workers.delete(key);
            counts.delivered += own.delivered;
            counts.failed += own.failed;
            counts.dead += own.dead;
            this.#countPending();
            // Messages that arrived while this channel was busy are picked up at once.
            if (own.delivered + own.dead > 0 && this.#started && !this.#stopping) this.#schedule(0);
          });
        this.#workers.set(key, worker);
        started.push(worker);
      }
    } catch (err) {
      this.#log.error({ err: redactUrls(String(err)) }, 'outbox: pass failed');
    }
    this.#countPending();
    return started;
  }

  #countPending(): void {
    try {
      this.#metrics.outboxPending.set(this.#store.pendingCount());
    } catch (err) {
      this.#log.error({ err: redactUrls(String(err)) }, 'outbox: cannot count pending messages');
    }
  }

  async #deliverChannel(queue: PendingMessage[], counts: OutboxPass): Promise<void> {
    for (const msg of queue) {
      if (this.#stopping || !this.#mayDeliver()) return;
      const now = this.#now();
      if (now - msg.createdAt > this.#maxAgeMs) {
        this.#dead(msg, `undelivered after ${Math.round((now - msg.createdAt) / 1000)}s`, now, counts);
        continue;
      }
      const retry = this.#retry.get(msg.id);
      if (retry && retry.nextAttemptAt > now) return;
      const sink = this.#sinks.get(msg.sink);
      if (!sink) {
        this.#dead(msg, `no such sink: ${msg.sink}`, now, counts);
        continue;
      }
      const result: AttemptResult = await this.#attempt(sink, msg);
      const at = this.#now();
      if (result.ok) {
        this.#record(msg, 'delivered', counts, () => this.#store.markDelivered(msg.id, at));
        this.#retry.delete(msg.id);
        continue;
      }
      const error = redactUrls(result.error);
      if (result.permanent) {
        this.#dead(msg, error, at, counts, result.outcome ?? 'dead');
        continue;
      }
      const attempts = Math.max(retry?.attempts ?? 0, msg.attempts ?? 0) + 1;
      const unanswered = Math.max(retry?.unanswered ?? 0, msg.unanswered ?? 0) + (result.unanswered ? 1 : 0);
      if (unanswered >= MAX_UNANSWERED) {
        // Each unanswered send may have arrived: one resend is the duplicate delivery promises, not more.
        this.#record(msg, 'unanswered', counts, () => this.#store.markFailed(msg.id, error, at, true));
        this.#dead(msg, `no answer to ${unanswered} sends (last: ${error}); not sent again, as it may have arrived`, at, counts);
        continue;
      }
      // The peer's own retry-after (a 429) is exact; only blind retries back off exponentially.
      const delay = result.retryAfterMs !== undefined ? result.retryAfterMs : this.#backoff(attempts - 1);
      const nextAttemptAt = at + delay;
      this.#retry.set(msg.id, { attempts, unanswered, nextAttemptAt, channel: channelKey(msg) });
      this.#log.warn(
        { outbox_id: msg.id, sink: msg.sink, channel: msg.channel, attempts, unanswered, retry_in_ms: nextAttemptAt - at, error },
        'outbox: delivery failed, will retry',
      );
      const outcome = result.outcome ?? (result.unanswered ? 'unanswered' : 'failed');
      this.#record(msg, outcome, counts, () => this.#store.markFailed(msg.id, error, nextAttemptAt, result.unanswered === true));
      return;
    }
  }

  /** One bounded attempt; a sink that throws, hangs or is aborted yields a retryable failure. */
  async #attempt(sink: Sink, msg: OutboundMessage): Promise<AttemptResult> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timer = setTimeout(
      () =>
        controller.abort(
          new OutboxError('VIGIL_ERR_OUTBOX_TIMEOUT', `delivery timed out after ${this.#deliveryTimeoutMs}ms`),
        ),
      this.#deliveryTimeoutMs,
    );
    // A sink that ignores its signal must not wedge the channel: the abort wins the race.
    // Cut off by the timeout or a shutdown: the request may be with the peer, answered or not.
    const aborted = new Promise<AttemptResult>((resolve) => {
      controller.signal.addEventListener('abort', () =>
        resolve({ ok: false, permanent: false, unanswered: true, error: String((controller.signal.reason as Error)?.message ?? 'aborted') }),
      );
    });
    try {
      return await Promise.race([sink.deliver(msg, controller.signal), aborted]);
    } catch (err) {
      return { ok: false, permanent: false, unanswered: maybeSent(err), error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }

  #dead(msg: OutboundMessage, error: string, at: number, counts: OutboxPass, outcome: NotificationOutcome = 'dead'): void {
    this.#log.error(
      {
        outbox_id: msg.id,
        sink: msg.sink,
        channel: msg.channel,
        incident_id: msg.incidentId,
        event: msg.event,
        age_ms: at - msg.createdAt,
        error,
      },
      'outbox: message given up (dead letter)',
    );
    this.#record(msg, outcome, counts, () => this.#store.markDead(msg.id, error, at));
    this.#retry.delete(msg.id);
  }

  /** Writes the outcome; a store that fails here is logged, never thrown out of the loop. */
  #record(msg: OutboundMessage, outcome: NotificationOutcome, counts: OutboxPass, write: () => void): void {
    counts[PASS_COUNT[outcome]] += 1;
    this.#metrics.notifications.inc({ sink: msg.sink, channel: msg.channel, outcome });
    try {
      write();
    } catch (err) {
      this.#log.error({ outbox_id: msg.id, outcome, err: redactUrls(String(err)) }, 'outbox: cannot record delivery outcome');
    }
  }
}
