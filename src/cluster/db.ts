// What replicas share besides the store: who is alive, what each last saw of each probe, and the
// operator commands a standby took that the leader must apply. Tables made here, idempotently.
import pg from 'pg';
import type { Finding } from '../types.js';
import type { ReplicaResult } from './quorum.js';

/** Serializes the CREATE TABLEs of replicas starting together. */
const SCHEMA_LOCK_KEY: readonly [number, number] = [0x7669676c, 101];

export interface Member {
  name: string;
  lastSeen: number;
  /** Probes this replica runs. */
  probes: number;
  leader: boolean;
}

/** An ack/resolve/note a standby received, waiting for the leader; `result` once applied. */
export interface QueuedCommand {
  id: number;
  command: unknown;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vigil_cluster_members (
  name text PRIMARY KEY,
  last_seen bigint NOT NULL,
  probes integer NOT NULL DEFAULT 0,
  leader boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS vigil_probe_results (
  replica text NOT NULL,
  probe text NOT NULL,
  at bigint NOT NULL,
  findings jsonb NOT NULL,
  PRIMARY KEY (replica, probe)
);
CREATE INDEX IF NOT EXISTS vigil_probe_results_at ON vigil_probe_results (at);
-- Each run reads the other replicas' results of its own probe: without this, every run scans the fleet's.
CREATE INDEX IF NOT EXISTS vigil_probe_results_probe ON vigil_probe_results (probe, at);
CREATE TABLE IF NOT EXISTS vigil_cluster_commands (
  id bigserial PRIMARY KEY,
  replica text NOT NULL,
  command jsonb NOT NULL,
  created_at bigint NOT NULL,
  result jsonb,
  done_at bigint
);`;

export class ClusterDb {
  readonly #pool: pg.Pool;

  constructor(url: string, opts: { replica: string; timeoutMs: number }) {
    this.#pool = new pg.Pool({
      connectionString: url,
      max: 3,
      keepAlive: true,
      application_name: `vigil ${opts.replica}`.slice(0, 63),
      connectionTimeoutMillis: opts.timeoutMs,
      query_timeout: opts.timeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away: the pool drops it; the next query connects again.
    this.#pool.on('error', () => undefined);
  }

  async init(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...SCHEMA_LOCK_KEY]);
      await client.query(SCHEMA);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** This replica is alive at `now`, runs `probes` probes, and leads or not (the leader clears the others' flag). */
  async heartbeat(name: string, now: number, probes: number, leader: boolean): Promise<void> {
    await this.#pool.query(
      `INSERT INTO vigil_cluster_members (name, last_seen, probes, leader) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen, probes = excluded.probes, leader = excluded.leader`,
      [name, now, probes, leader],
    );
    if (leader) await this.#pool.query('UPDATE vigil_cluster_members SET leader = false WHERE leader AND name <> $1', [name]);
  }

  async members(): Promise<Member[]> {
    const r = await this.#pool.query<{ name: string; last_seen: string; probes: number; leader: boolean }>('SELECT name, last_seen, probes, leader FROM vigil_cluster_members ORDER BY name');
    return r.rows.map((m) => ({ name: m.name, lastSeen: Number(m.last_seen), probes: m.probes, leader: m.leader }));
  }

  /** Forgets replicas not seen since `before` (they left long ago). */
  async forgetMembers(before: number): Promise<void> {
    await this.#pool.query('DELETE FROM vigil_cluster_members WHERE last_seen < $1', [before]);
    await this.#pool.query('DELETE FROM vigil_probe_results WHERE at < $1', [before]);
  }

  async writeResult(result: ReplicaResult): Promise<void> {
    await this.#pool.query(
      `INSERT INTO vigil_probe_results (replica, probe, at, findings) VALUES ($1, $2, $3, $4)
       ON CONFLICT (replica, probe) DO UPDATE SET at = excluded.at, findings = excluded.findings`,
      [result.replica, result.probe, result.at, JSON.stringify(result.findings)],
    );
  }

  /** Every replica's latest result of each probe run at or after `since` (of `probe` only, when given). */
  async results(since: number, probe?: string): Promise<ReplicaResult[]> {
    const r = await this.#pool.query<{ replica: string; probe: string; at: string; findings: Finding[] }>(
      probe === undefined
        ? 'SELECT replica, probe, at, findings FROM vigil_probe_results WHERE at >= $1'
        : 'SELECT replica, probe, at, findings FROM vigil_probe_results WHERE at >= $1 AND probe = $2',
      probe === undefined ? [since] : [since, probe],
    );
    return r.rows.map((row) => ({ replica: row.replica, probe: row.probe, at: Number(row.at), findings: row.findings }));
  }

  /** Queues a command for the leader; returns its id. */
  async enqueue(replica: string, command: unknown, now: number): Promise<number> {
    const r = await this.#pool.query<{ id: string }>('INSERT INTO vigil_cluster_commands (replica, command, created_at) VALUES ($1, $2, $3) RETURNING id', [replica, JSON.stringify(command), now]);
    return Number(r.rows[0]!.id);
  }

  /** The leader's answer to command `id`, or undefined while it waits. */
  async answer(id: number): Promise<unknown> {
    const r = await this.#pool.query<{ result: unknown; done_at: string | null }>('SELECT result, done_at FROM vigil_cluster_commands WHERE id = $1', [id]);
    const row = r.rows[0];
    return row?.done_at ? row.result : undefined;
  }

  /**
   * Applies the waiting commands one by one with `apply`, each marked done in the same transaction
   * that locked it (FOR UPDATE SKIP LOCKED), so each is applied once even if two replicas drain.
   */
  async drain(apply: (command: unknown) => unknown, now: () => number): Promise<number> {
    const client = await this.#pool.connect();
    let done = 0;
    try {
      for (;;) {
        await client.query('BEGIN');
        const r = await client.query<{ id: string; command: unknown }>('SELECT id, command FROM vigil_cluster_commands WHERE done_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED');
        const row = r.rows[0];
        if (!row) {
          await client.query('COMMIT');
          return done;
        }
        let result: unknown;
        try {
          result = apply(row.command);
        } catch (err) {
          result = { ok: false, code: 'failed', message: (err as Error).message };
        }
        await client.query('UPDATE vigil_cluster_commands SET result = $2, done_at = $3 WHERE id = $1', [row.id, JSON.stringify(result ?? null), now()]);
        await client.query('COMMIT');
        done++;
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async pruneCommands(before: number): Promise<void> {
    await this.#pool.query('DELETE FROM vigil_cluster_commands WHERE done_at IS NOT NULL AND done_at < $1', [before]);
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
