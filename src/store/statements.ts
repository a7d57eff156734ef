// Every SQL statement the store runs, prepared once per connection (apply and flushUptime are hot).
import type Database from 'better-sqlite3';
import type { UptimeRow } from './store.js';
import { INCIDENT_COLUMNS, SUBJECT_COLUMNS, upsertClause } from './columns.js';
import type { IncidentRow, MessageState, OutboxRow, SubjectRow, TimelineRow } from './rows.js';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    upsertIncident: db.prepare<[IncidentRow]>(
      `INSERT INTO incidents (${INCIDENT_COLUMNS.join(', ')})
       VALUES (${INCIDENT_COLUMNS.map((c) => `@${c}`).join(', ')})
       ${upsertClause(INCIDENT_COLUMNS, 'id')}`,
    ),
    upsertSubject: db.prepare<[SubjectRow]>(
      `INSERT INTO subjects (${SUBJECT_COLUMNS.join(', ')})
       VALUES (${SUBJECT_COLUMNS.map((c) => `@${c}`).join(', ')})
       ${upsertClause(SUBJECT_COLUMNS, 'key')}`,
    ),
    appendTimeline: db.prepare<[number, number, number, string, string, string | null]>(
      `INSERT INTO timeline (incident_id, seq, at, event, detail, "by")
       VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM timeline WHERE incident_id = ?), ?, ?, ?, ?)`,
    ),
    // next_attempt_at is created_at for a message due at once, later for one held (see releaseMessages).
    insertMessage: db.prepare<[string, string, number, number | null, string, string, number]>(
      `INSERT INTO outbox (sink, channel, created_at, incident_id, event, body, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    timelineOf: db.prepare<[number], TimelineRow>(
      `SELECT at, event, detail, "by" FROM timeline WHERE incident_id = ? ORDER BY seq`,
    ),
    subjects: db.prepare<[], SubjectRow>(`SELECT * FROM subjects ORDER BY key`),
    // INDEXED BY: with no ANALYZE statistics the planner would scan 90 days of history instead.
    incidentsToResume: db.prepare<[number], IncidentRow>(
      `SELECT * FROM incidents WHERE state != 'resolved'
       UNION ALL SELECT * FROM incidents INDEXED BY incidents_resolved_at WHERE state = 'resolved' AND resolved_at >= ?
       ORDER BY id`,
    ),
    // Pruned incidents leave their highest id in meta, so an id is never handed out twice.
    nextIncidentId: db.prepare<[], { next: number }>(
      `SELECT max(coalesce((SELECT max(id) FROM incidents), 0),
                  coalesce((SELECT value FROM meta WHERE key = 'last_incident_id'), 0)) + 1 AS next`,
    ),
    rememberLastIncidentId: db.prepare<[]>(
      `INSERT INTO meta (key, value) SELECT 'last_incident_id', max(id) FROM incidents HAVING max(id) IS NOT NULL
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    ),
    incident: db.prepare<[number], IncidentRow>(`SELECT * FROM incidents WHERE id = ?`),
    listAll: db.prepare<[number], IncidentRow>(`SELECT * FROM incidents ORDER BY id DESC LIMIT ?`),
    listOpen: db.prepare<[number], IncidentRow>(
      `SELECT * FROM incidents WHERE state != 'resolved' ORDER BY id DESC LIMIT ?`,
    ),
    listResolved: db.prepare<[number], IncidentRow>(
      `SELECT * FROM incidents WHERE state = 'resolved' ORDER BY id DESC LIMIT ?`,
    ),
    addUptime: db.prepare<[UptimeRow]>(
      `INSERT INTO uptime (probe, environment, service, hour, ok, failed)
       VALUES (@probe, @environment, @service, @hour, @ok, @failed)
       ON CONFLICT (probe, hour) DO UPDATE SET ok = ok + excluded.ok, failed = failed + excluded.failed,
         environment = excluded.environment, service = excluded.service`,
    ),
    // INDEXED BY, as above: a range of recent hours, not every row kept for the retention.
    uptimeSince: db.prepare<[number], UptimeRow>(
      `SELECT probe, environment, service, hour, ok, failed FROM uptime INDEXED BY uptime_hour WHERE hour > ?
       ORDER BY probe, hour`,
    ),
    // A message waits behind an earlier one of its channel that is still waiting for a retry, so
    // order per channel holds across restarts, not only in the outbox's memory.
    pending: db.prepare<{ now: number; limit: number }, OutboxRow>(
      `SELECT id, sink, channel, created_at, incident_id, event, body, attempts, unanswered, last_error FROM outbox AS o
       WHERE state = 'pending' AND next_attempt_at <= @now
         AND NOT EXISTS (SELECT 1 FROM outbox AS w WHERE w.state = 'pending' AND w.sink = o.sink
                         AND w.channel = o.channel AND w.id < o.id AND w.next_attempt_at > @now)
       ORDER BY id LIMIT @limit`,
    ),
    heldMessage: db.prepare<[number], { body: string; next_attempt_at: number }>(
      `SELECT body, next_attempt_at FROM outbox WHERE id = ? AND state = 'pending' AND attempts = 0`,
    ),
    releaseMessage: db.prepare<[string, number, number]>(
      `UPDATE outbox SET body = ?, next_attempt_at = min(next_attempt_at, ?)
       WHERE id = ? AND state = 'pending' AND attempts = 0`,
    ),
    messageById: db.prepare<[number], OutboxRow & { next_attempt_at: number; state: string }>(
      `SELECT id, sink, channel, created_at, incident_id, event, body, attempts, unanswered, last_error, next_attempt_at, state
       FROM outbox WHERE id = ?`,
    ),
    lastMessageId: db.prepare<[], { last: number }>(
      `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),
                  coalesce((SELECT max(id) FROM outbox), 0)) AS last`,
    ),
    // Write-back of messages kept in memory while the store refused writes, with the id they were given then.
    insertMessageAs: db.prepare<[MessageState]>(
      `INSERT INTO outbox (id, sink, channel, created_at, incident_id, event, body, attempts, unanswered, next_attempt_at,
         state, last_error, delivered_at, dead_at)
       VALUES (@id, @sink, @channel, @created_at, @incident_id, @event, @body, @attempts, @unanswered, @next_attempt_at,
         @state, @last_error, @delivered_at, @dead_at)`,
    ),
    updateMessageAs: db.prepare<[MessageState]>(
      `UPDATE outbox SET body = @body, attempts = @attempts, unanswered = @unanswered, next_attempt_at = @next_attempt_at,
         state = @state, last_error = @last_error, delivered_at = @delivered_at, dead_at = @dead_at
       WHERE id = @id AND state = 'pending'`,
    ),
    pendingCount: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`),
    delivered: db.prepare<[number, number]>(
      `UPDATE outbox SET state = 'delivered', delivered_at = ? WHERE id = ? AND state = 'pending'`,
    ),
    failed: db.prepare<[number, string, number, number]>(
      `UPDATE outbox SET attempts = attempts + 1, unanswered = unanswered + ?, last_error = ?, next_attempt_at = ?
       WHERE id = ? AND state = 'pending'`,
    ),
    dead: db.prepare<[string, number, number]>(
      `UPDATE outbox SET state = 'dead', last_error = ?, dead_at = ? WHERE id = ? AND state = 'pending'`,
    ),
    pruneIncidents: db.prepare<[number]>(`DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < ?`),
    pruneMessages: db.prepare<[number]>(
      `DELETE FROM outbox WHERE state != 'pending' AND coalesce(delivered_at, dead_at) < ?`,
    ),
    pruneUptime: db.prepare<[number]>(`DELETE FROM uptime WHERE hour <= ?`),
    watchPush: db.prepare<[string, number]>(`INSERT INTO push_pings (probe, watching_since) VALUES (?, ?) ON CONFLICT (probe) DO NOTHING`),
    recordPush: db.prepare<{ probe: string; at: number; ok: number; message: string | null }>(
      `INSERT INTO push_pings (probe, watching_since, at, ok, message) VALUES (@probe, @at, @at, @ok, @message)
       ON CONFLICT (probe) DO UPDATE SET at = excluded.at, ok = excluded.ok, message = excluded.message`,
    ),
    pushState: db.prepare<[string], { watching_since: number; at: number | null; ok: number | null; message: string | null }>(
      `SELECT watching_since, at, ok, message FROM push_pings WHERE probe = ?`,
    ),
    setMeta: db.prepare<[string, number]>(
      `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
  };
}
