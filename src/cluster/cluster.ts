// One replica's part in a cluster: contends for leadership, heartbeats into the members table, writes
// its probe results, and, while it leads, merges everyone's results and applies queued commands.
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/types.js';
import type { Finding } from '../types.js';
import { ClusterDb, type Member } from './db.js';
import { Leadership } from './leadership.js';
import { mergeFindings, type ReplicaResult } from './quorum.js';
import { ownerOf } from './rendezvous.js';

/** How long a standby waits for the leader to apply a command it forwarded, in intervals. */
const FORWARD_INTERVALS = 3;
const FORWARD_POLL_MS = 100;

export interface ClusterStatus {
  leader: string | null;
  replicas: Array<{ name: string; last_seen: string; probes: number }>;
}

/** A standby forwarded a command and no leader applied it in time. */
export class NoLeaderError extends Error {
  readonly code = 'VIGIL_ERR_NO_LEADER';
  override name = 'NoLeaderError';
}

export interface ClusterOptions {
  config: ClusterConfig;
  /** The PostgreSQL URL of the shared store. */
  url: string;
  log: Logger;
  now: () => number;
  /** Called at once when this replica starts or stops leading. */
  onLeading: (leading: boolean) => void;
  /** The number of probes this replica runs now, for its heartbeat. */
  probes: () => number;
  /** Called when the live replicas changed (shard mode re-divides the probes). */
  onMembers?: (live: readonly string[]) => void;
}

export class Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly #db: ClusterDb;
  readonly #leadership: Leadership;
  readonly #opts: ClusterOptions;
  #members: Member[] = [];
  #live: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #beating = false;
  #warned = '';

  private constructor(opts: ClusterOptions) {
    this.#opts = opts;
    this.config = opts.config;
    this.name = opts.config.replica;
    this.#live = [this.name];
    this.#db = new ClusterDb(opts.url, { replica: this.name, timeoutMs: Math.max(opts.config.intervalMs, 2_000) });
    this.#leadership = new Leadership({ url: opts.url, replica: this.name, intervalMs: opts.config.intervalMs, log: opts.log, onChange: (l) => opts.onLeading(l) });
  }

  /** Makes the shared tables and joins: heartbeats at once, then contends for leadership. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(opts);
    try {
      await c.#db.init();
    } catch (err) {
      await c.#db.close();
      throw err;
    }
    await c.#beat();
    c.#timer = setInterval(() => void c.#beat(), opts.config.intervalMs);
    c.#timer.unref();
    c.#leadership.start();
    return c;
  }

  get leading(): boolean {
    return this.#leadership.leading;
  }

  /** Replicas heard from within two intervals, this one always among them, sorted. */
  live(): readonly string[] {
    return this.#live;
  }

  /** Whether this replica runs `probe`: all of them in replicate mode, its rendezvous share in shard mode. */
  runs(probe: string): boolean {
    return this.config.mode === 'replicate' || ownerOf(probe, this.#live) === this.name;
  }

  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    const now = this.#opts.now();
    try {
      await this.#db.heartbeat(this.name, now, this.#opts.probes(), this.leading);
      this.#members = await this.#db.members();
      const horizon = now - 2 * this.config.intervalMs;
      const live = [...new Set([this.name, ...this.#members.filter((m) => m.lastSeen >= horizon).map((m) => m.name)])].sort();
      if (live.join('\0') !== this.#live.join('\0')) {
        this.#live = live;
        this.#opts.onMembers?.(live);
      }
      this.#warned = '';
    } catch (err) {
      this.#problem('cluster: heartbeat failed', err);
    } finally {
      this.#beating = false;
    }
  }

  /** Writes this replica's result of a probe run for the leader to merge; failures are logged, never thrown. */
  async record(result: Omit<ReplicaResult, 'replica'>): Promise<void> {
    try {
      await this.#db.writeResult({ ...result, replica: this.name });
    } catch (err) {
      this.#problem('cluster: writing a probe result failed', err);
    }
  }

  /**
   * The findings the engine should see for `own` (this replica's run): merged with the other
   * replicas' latest results within `windowMs` by the quorum. Without the others' results (the
   * database does not answer), this replica's own findings stand.
   */
  async merged(own: Omit<ReplicaResult, 'replica'>, windowMs: number): Promise<Finding[]> {
    const now = this.#opts.now();
    let others: ReplicaResult[];
    try {
      others = (await this.#db.results(now - windowMs, own.probe)).filter((r) => r.replica !== this.name);
    } catch (err) {
      this.#problem('cluster: reading the other replicas\' results failed: this replica\'s own findings stand', err);
      return own.findings;
    }
    return mergeFindings([{ ...own, replica: this.name }, ...others], { now, windowMs, quorum: this.config.quorum, prefer: this.name }).findings;
  }

  /** Every replica's latest results of the last `windowMs`, or null (said in the log) when the database does not answer. */
  async recentResults(windowMs: number): Promise<ReplicaResult[] | null> {
    try {
      return await this.#db.results(this.#opts.now() - windowMs);
    } catch (err) {
      this.#problem('cluster: cannot read the replicas\' results', err);
      return null;
    }
  }

  /** A standby's way to apply a command: queued in the store, answered by the leader. */
  async forward(command: unknown): Promise<unknown> {
    const id = await this.#db.enqueue(this.name, command, this.#opts.now());
    const deadline = Date.now() + FORWARD_INTERVALS * this.config.intervalMs;
    for (;;) {
      const answer = await this.#db.answer(id);
      if (answer !== undefined) return answer;
      if (Date.now() > deadline) throw new NoLeaderError(`no leader applied the command within ${FORWARD_INTERVALS} cluster intervals; it stays queued and is applied once a replica leads`);
      await new Promise((resolve) => setTimeout(resolve, FORWARD_POLL_MS));
    }
  }

  /** The leader applies the commands standbys queued, each once. */
  async drain(apply: (command: unknown) => unknown): Promise<number> {
    if (!this.leading) return 0;
    try {
      return await this.#db.drain((cmd) => (this.leading ? apply(cmd) : { ok: false, code: 'conflict', message: 'this replica stopped leading' }), this.#opts.now);
    } catch (err) {
      this.#problem('cluster: applying queued commands failed', err);
      return 0;
    }
  }

  /** Old members, results and applied commands go after `retentionMs`. */
  async prune(retentionMs: number): Promise<void> {
    const before = this.#opts.now() - retentionMs;
    try {
      await this.#db.forgetMembers(before);
      await this.#db.pruneCommands(before);
    } catch (err) {
      this.#problem('cluster: pruning failed', err);
    }
  }

  /** For GET /api/cluster: the leader (as last heartbeated) and every replica heard from. */
  status(): ClusterStatus {
    const horizon = this.#opts.now() - 2 * this.config.intervalMs;
    const leader = this.leading ? this.name : (this.#members.find((m) => m.leader && m.lastSeen >= horizon)?.name ?? null);
    return {
      leader,
      replicas: this.#members.map((m) => ({ name: m.name, last_seen: new Date(m.lastSeen).toISOString(), probes: m.probes })),
    };
  }

  /** A heartbeat now (after a change worth telling the others at once, such as leading). */
  beat(): Promise<void> {
    return this.#beat();
  }

  #problem(what: string, err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    if (message === this.#warned) return;
    this.#warned = message;
    this.#opts.log.warn({ err: { message } }, what);
  }

  /** Leaves: stops heartbeating and gives up leadership (its session closes, so the lock is free at once). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#leadership.stop();
    await this.#db.close();
  }
}
