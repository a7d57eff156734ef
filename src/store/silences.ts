// The silences table: add, list, expire early, prune; rows to Silence objects and back.
import type Database from 'better-sqlite3';
import type { Silence } from '../incidents/silences.js';

export type NewSilence = Omit<Silence, 'id' | 'expiredBy'>;

export interface SilenceQuery {
  /** Only silences still in force at this time (ends_at after it); all when absent. */
  activeAt?: number;
  limit?: number;
}

export interface SilenceRow {
  id: number;
  probe: string | null;
  service: string | null;
  environment: string | null;
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string;
  expired_by: string | null;
}

export function silenceFromRow(r: SilenceRow): Silence {
  const matchers: Silence['matchers'] = {};
  if (r.probe !== null) matchers.probe = r.probe;
  if (r.service !== null) matchers.service = r.service;
  if (r.environment !== null) matchers.environment = r.environment;
  return { id: r.id, matchers, startsAt: r.starts_at, endsAt: r.ends_at, reason: r.reason, by: r.created_by, expiredBy: r.expired_by };
}

export class SilenceTable {
  readonly #insert;
  readonly #get;
  readonly #active;
  readonly #all;
  readonly #expire;
  readonly #prune;

  constructor(db: Database.Database) {
    this.#insert = db.prepare<[string | null, string | null, string | null, number, number, string, string]>(
      `INSERT INTO silences (probe, service, environment, starts_at, ends_at, reason, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = db.prepare<[number], SilenceRow>(`SELECT * FROM silences WHERE id = ?`);
    this.#active = db.prepare<[number, number], SilenceRow>(`SELECT * FROM silences WHERE ends_at > ? ORDER BY id DESC LIMIT ?`);
    this.#all = db.prepare<[number], SilenceRow>(`SELECT * FROM silences ORDER BY id DESC LIMIT ?`);
    this.#expire = db.prepare<[number, string, number, number]>(`UPDATE silences SET ends_at = max(starts_at, ?), expired_by = ? WHERE id = ? AND ends_at > ?`);
    this.#prune = db.prepare<[number]>(`DELETE FROM silences WHERE ends_at < ?`);
  }

  add(s: NewSilence): Silence {
    const m = s.matchers;
    const info = this.#insert.run(m.probe ?? null, m.service ?? null, m.environment ?? null, s.startsAt, s.endsAt, s.reason, s.by);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): Silence | null {
    const row = this.#get.get(id);
    return row ? silenceFromRow(row) : null;
  }

  /** Newest first. */
  list(q: SilenceQuery = {}): Silence[] {
    const limit = q.limit ?? 500;
    return (q.activeAt === undefined ? this.#all.all(limit) : this.#active.all(q.activeAt, limit)).map(silenceFromRow);
  }

  /** Ends a silence still in force at `at`; null when there is none such (unknown, or over already). */
  expire(id: number, by: string, at: number): Silence | null {
    return this.#expire.run(at, by, id, at).changes === 1 ? this.get(id) : null;
  }

  prune(cutoff: number): number {
    return this.#prune.run(cutoff).changes;
  }
}
