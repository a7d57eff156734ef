// Every SQL statement the PostgreSQL store runs: the SQLite store's statements in PostgreSQL's dialect.
// Sets of rows travel as one JSON parameter (json_populate_recordset), so a step is one round trip per table.
import { INCIDENT_COLUMNS, SUBJECT_COLUMNS, upsertClause } from './columns.js';

const INCIDENT_LIST = INCIDENT_COLUMNS.join(', ');
const SUBJECT_LIST = SUBJECT_COLUMNS.join(', ');

const MESSAGE_COLUMNS = `id, sink, channel, created_at, incident_id, event, body, attempts, unanswered, last_error`;

const OUTBOX_SEQUENCE = `pg_get_serial_sequence('outbox', 'id')::regclass`;

export const SQL = {
  /** Reads of several statements in one batch see one snapshot. */
  snapshot: `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`,
  upsertIncidents: `INSERT INTO incidents (${INCIDENT_LIST})
    SELECT ${INCIDENT_LIST} FROM json_populate_recordset(NULL::incidents, $1::json)
    ${upsertClause(INCIDENT_COLUMNS, 'id')}`,
  upsertSubjects: `INSERT INTO subjects (${SUBJECT_LIST})
    SELECT ${SUBJECT_LIST} FROM json_populate_recordset(NULL::subjects, $1::json)
    ${upsertClause(SUBJECT_COLUMNS, 'key')}`,
  // n orders the entries of one incident; seq continues after those already stored.
  appendTimeline: `INSERT INTO timeline (incident_id, seq, at, event, detail, "by")
    SELECT e.incident_id,
      coalesce((SELECT max(seq) FROM timeline AS t WHERE t.incident_id = e.incident_id), 0)
        + row_number() OVER (PARTITION BY e.incident_id ORDER BY e.n),
      e.at, e.event, e.detail, e."by"
    FROM json_to_recordset($1::json) AS e(incident_id bigint, n integer, at bigint, event text, detail text, "by" text)`,
  // Ids are handed out in n order; the caller sorts the returned ids to match.
  insertMessages: `INSERT INTO outbox (sink, channel, created_at, incident_id, event, body, next_attempt_at)
    SELECT sink, channel, created_at, incident_id, event, body, next_attempt_at
    FROM json_to_recordset($1::json) AS m(n integer, sink text, channel text, created_at bigint, incident_id bigint,
      event text, body text, next_attempt_at bigint)
    ORDER BY n
    RETURNING id`,
  subjects: `SELECT * FROM subjects ORDER BY key`,
  incidentsToResume: `SELECT * FROM incidents WHERE state <> 'resolved' OR resolved_at >= $1 ORDER BY id`,
  timelineToResume: `SELECT incident_id, at, event, detail, "by" FROM timeline
    WHERE incident_id IN (SELECT id FROM incidents WHERE state <> 'resolved' OR resolved_at >= $1) ORDER BY incident_id, seq`,
  nextIncidentId: `SELECT greatest(coalesce((SELECT max(id) FROM incidents), 0),
    coalesce((SELECT value::bigint FROM meta WHERE key = 'last_incident_id'), 0)) + 1 AS next`,
  rememberLastIncidentId: `INSERT INTO meta (key, value) SELECT 'last_incident_id', max(id)::text FROM incidents HAVING max(id) IS NOT NULL
    ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text`,
  incident: `SELECT * FROM incidents WHERE id = $1`,
  timelineOf: `SELECT incident_id, at, event, detail, "by" FROM timeline WHERE incident_id = $1 ORDER BY seq`,
  /** $1: 'open', 'resolved' or 'all'; $2: the limit. Newest first. */
  listIncidents: `SELECT * FROM incidents
    WHERE $1 = 'all' OR ($1 = 'open') = (state <> 'resolved') ORDER BY id DESC LIMIT $2`,
  listTimelines: `SELECT incident_id, at, event, detail, "by" FROM timeline WHERE incident_id IN (
      SELECT id FROM incidents WHERE $1 = 'all' OR ($1 = 'open') = (state <> 'resolved') ORDER BY id DESC LIMIT $2)
    ORDER BY incident_id, seq`,
  addUptime: `INSERT INTO uptime (probe, environment, service, hour, ok, failed)
    SELECT probe, environment, service, hour, ok, failed FROM json_populate_recordset(NULL::uptime, $1::json)
    ON CONFLICT (probe, hour) DO UPDATE SET ok = uptime.ok + excluded.ok, failed = uptime.failed + excluded.failed,
      environment = excluded.environment, service = excluded.service`,
  uptimeSince: `SELECT probe, environment, service, hour, ok, failed FROM uptime WHERE hour > $1 ORDER BY probe, hour`,
  // As in SQLite: a message waits behind an earlier one of its channel that is still waiting for a retry.
  pending: `SELECT ${MESSAGE_COLUMNS} FROM outbox AS o
    WHERE state = 'pending' AND next_attempt_at <= $1
      AND NOT EXISTS (SELECT 1 FROM outbox AS w WHERE w.state = 'pending' AND w.sink = o.sink
                      AND w.channel = o.channel AND w.id < o.id AND w.next_attempt_at > $1)
    ORDER BY id LIMIT $2`,
  heldMessages: `SELECT id, body FROM outbox WHERE id = ANY($1::bigint[]) AND state = 'pending' AND attempts = 0`,
  releaseMessages: `UPDATE outbox SET next_attempt_at = least(next_attempt_at, $2)
    WHERE id = ANY($1::bigint[]) AND state = 'pending' AND attempts = 0`,
  releaseRewritten: `UPDATE outbox AS o SET body = r.body, next_attempt_at = least(o.next_attempt_at, $2)
    FROM json_to_recordset($1::json) AS r(id bigint, body text)
    WHERE o.id = r.id AND o.state = 'pending' AND o.attempts = 0`,
  messageById: `SELECT ${MESSAGE_COLUMNS}, next_attempt_at, state FROM outbox WHERE id = $1`,
  lastMessageId: `SELECT greatest(coalesce(pg_sequence_last_value(${OUTBOX_SEQUENCE}), 0),
    coalesce((SELECT max(id) FROM outbox), 0)) AS last`,
  insertMessagesAs: `INSERT INTO outbox (id, sink, channel, created_at, incident_id, event, body, attempts, unanswered,
      next_attempt_at, state, last_error, delivered_at, dead_at)
    SELECT id, sink, channel, created_at, incident_id, event, body, attempts, unanswered,
      next_attempt_at, state, last_error, delivered_at, dead_at
    FROM json_populate_recordset(NULL::outbox, $1::json) ORDER BY id`,
  updateMessagesAs: `UPDATE outbox AS o SET body = r.body, attempts = r.attempts, unanswered = r.unanswered,
      next_attempt_at = r.next_attempt_at, state = r.state, last_error = r.last_error,
      delivered_at = r.delivered_at, dead_at = r.dead_at
    FROM json_populate_recordset(NULL::outbox, $1::json) AS r
    WHERE o.id = r.id AND o.state = 'pending'`,
  /** After messages were inserted with their own ids: the identity continues past them. */
  advanceMessageIds: `SELECT setval(${OUTBOX_SEQUENCE}, max(id)) FROM outbox
    HAVING max(id) > coalesce(pg_sequence_last_value(${OUTBOX_SEQUENCE}), 0)`,
  pendingCount: `SELECT count(*) AS n FROM outbox WHERE state = 'pending'`,
  delivered: `UPDATE outbox SET state = 'delivered', delivered_at = $1 WHERE id = $2 AND state = 'pending'`,
  failed: `UPDATE outbox SET attempts = attempts + 1, unanswered = unanswered + $1, last_error = $2, next_attempt_at = $3
    WHERE id = $4 AND state = 'pending'`,
  dead: `UPDATE outbox SET state = 'dead', last_error = $1, dead_at = $2 WHERE id = $3 AND state = 'pending'`,
  deadMessages: `SELECT id, sink, channel, incident_id, event, last_error, dead_at FROM outbox
    WHERE state = 'dead' AND dead_at >= $1 ORDER BY dead_at DESC, id DESC LIMIT $2`,
  pruneIncidents: `DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < $1`,
  pruneMessages: `DELETE FROM outbox WHERE state <> 'pending' AND coalesce(delivered_at, dead_at) < $1`,
  pruneUptime: `DELETE FROM uptime WHERE hour <= $1`,
  pruneSilences: `DELETE FROM silences WHERE ends_at < $1`,
  pruneOncall: `DELETE FROM oncall_incidents WHERE state = 'resolved' AND updated_at < $1`,
  oncallInsert: `INSERT INTO oncall_incidents (remote_id, incident_id, outbox_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING`,
  oncallByOutbox: `SELECT * FROM oncall_incidents WHERE outbox_id = $1`,
  oncallOf: `SELECT * FROM oncall_incidents WHERE incident_id = $1 ORDER BY created_at, remote_id`,
  oncallActive: `SELECT * FROM oncall_incidents WHERE state <> 'resolved' ORDER BY created_at, remote_id`,
  oncallSetState: `UPDATE oncall_incidents SET state = $1, updated_at = $2 WHERE remote_id = $3 AND state <> 'resolved' AND state <> $1`,
  silenceInsert: `INSERT INTO silences (probe, service, environment, starts_at, ends_at, reason, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
  silence: `SELECT * FROM silences WHERE id = $1`,
  silencesActive: `SELECT * FROM silences WHERE ends_at > $1 ORDER BY id DESC LIMIT $2`,
  silencesAll: `SELECT * FROM silences ORDER BY id DESC LIMIT $1`,
  silenceExpire: `UPDATE silences SET ends_at = greatest(starts_at, $1), expired_by = $2 WHERE id = $3 AND ends_at > $1 RETURNING *`,
  watchPush: `INSERT INTO push_pings (probe, watching_since) VALUES ($1, $2) ON CONFLICT (probe) DO NOTHING`,
  recordPush: `INSERT INTO push_pings (probe, watching_since, at, ok, message) VALUES ($1, $2, $2, $3, $4)
    ON CONFLICT (probe) DO UPDATE SET at = excluded.at, ok = excluded.ok, message = excluded.message`,
  pushState: `SELECT watching_since, at, ok, message FROM push_pings WHERE probe = $1`,
  setMeta: `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  sizeBytes: `SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::bigint AS bytes FROM unnest($1::text[]) AS t`,
} as const;
