// The store's record of Better Stack on-call incidents and of given-up messages: statements and row shapes.
import type Database from 'better-sqlite3';

export type OncallState = 'open' | 'acknowledged' | 'resolved';

/** A Better Stack incident vigil created, and what vigil last knew of it. */
export interface OncallIncident {
  /** Better Stack's id of the incident. */
  remoteId: string;
  incidentId: number;
  /** The outbox message (a create) that made it. */
  outboxId: number;
  createdAt: number;
  state: OncallState;
  updatedAt: number;
}

/** An outbox message given up, for /status: which sink refused what, and why. */
export interface DeadMessage {
  id: number;
  sink: string;
  channel: string;
  incidentId: number | null;
  event: string;
  error: string | null;
  at: number;
}

export interface OncallRow {
  remote_id: string;
  incident_id: number;
  outbox_id: number;
  created_at: number;
  state: OncallState;
  updated_at: number;
}

export interface DeadRow {
  id: number;
  sink: string;
  channel: string;
  incident_id: number | null;
  event: string;
  last_error: string | null;
  dead_at: number;
}

export function oncallFromRow(r: OncallRow): OncallIncident {
  return { remoteId: r.remote_id, incidentId: r.incident_id, outboxId: r.outbox_id, createdAt: r.created_at, state: r.state, updatedAt: r.updated_at };
}

export function deadFromRow(r: DeadRow): DeadMessage {
  return { id: r.id, sink: r.sink, channel: r.channel, incidentId: r.incident_id, event: r.event, error: r.last_error, at: r.dead_at };
}

export type OncallStatements = ReturnType<typeof prepareOncallStatements>;

export function prepareOncallStatements(db: Database.Database) {
  return {
    // OR IGNORE: the same create recorded twice (a retry after a lost answer) keeps the first row.
    insert: db.prepare<[string, number, number, number, number]>(
      `INSERT OR IGNORE INTO oncall_incidents (remote_id, incident_id, outbox_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
    ),
    byOutbox: db.prepare<[number], OncallRow>(`SELECT * FROM oncall_incidents WHERE outbox_id = ?`),
    of: db.prepare<[number], OncallRow>(`SELECT * FROM oncall_incidents WHERE incident_id = ? ORDER BY created_at, remote_id`),
    active: db.prepare<[], OncallRow>(
      `SELECT * FROM oncall_incidents INDEXED BY oncall_incidents_active WHERE state != 'resolved' ORDER BY created_at, remote_id`,
    ),
    // A state only moves forward: a late "acknowledged" never reopens a resolved one.
    setState: db.prepare<[OncallState, number, string, OncallState]>(
      `UPDATE oncall_incidents SET state = ?, updated_at = ? WHERE remote_id = ? AND state != 'resolved' AND state != ?`,
    ),
    prune: db.prepare<[number]>(`DELETE FROM oncall_incidents WHERE state = 'resolved' AND updated_at < ?`),
    dead: db.prepare<[number, number], DeadRow>(
      `SELECT id, sink, channel, incident_id, event, last_error, dead_at FROM outbox
       WHERE state = 'dead' AND dead_at >= ? ORDER BY dead_at DESC, id DESC LIMIT ?`,
    ),
  };
}
