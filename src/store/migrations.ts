// The store's schema as an ordered list of migrations, versioned with PRAGMA user_version.
import type { Database } from 'better-sqlite3';

/**
 * MIGRATIONS[i] brings a database from schema i to schema i + 1. Append only: a released
 * migration is never edited, because files written by it already exist.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    severity TEXT NOT NULL CHECK (severity IN ('S1', 'S2', 'S3', 'S4')),
    environment TEXT NOT NULL,
    service TEXT NOT NULL,
    summary TEXT NOT NULL,
    root_probe TEXT NOT NULL,
    root_key TEXT NOT NULL,
    symptoms TEXT NOT NULL DEFAULT '[]',
    opened_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    resolved_at INTEGER,
    respond_by INTEGER,
    last_reminder_at INTEGER,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]'
  ) STRICT;
  -- loadEngineState and listIncidents({state: 'open'}) read the unresolved few, prune the old resolved.
  CREATE INDEX incidents_unresolved ON incidents (id) WHERE state != 'resolved';
  CREATE INDEX incidents_resolved_at ON incidents (resolved_at) WHERE state = 'resolved';

  CREATE TABLE timeline (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    "by" TEXT,
    PRIMARY KEY (incident_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE subjects (
    key TEXT PRIMARY KEY,
    probe TEXT NOT NULL,
    ok INTEGER,
    failures INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    severity TEXT,
    since INTEGER NOT NULL,
    incident_id INTEGER
  ) STRICT, WITHOUT ROWID;

  -- AUTOINCREMENT: a message id is never reused, so a late delivery result cannot mark the wrong row.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    incident_id INTEGER,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    last_error TEXT,
    delivered_at INTEGER,
    dead_at INTEGER
  ) STRICT;
  CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE state = 'pending';
  CREATE INDEX outbox_finished ON outbox (coalesce(delivered_at, dead_at)) WHERE state != 'pending';

  CREATE TABLE uptime (
    probe TEXT NOT NULL,
    environment TEXT NOT NULL,
    service TEXT NOT NULL,
    hour INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (probe, hour)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX uptime_hour ON uptime (hour);

  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value ANY
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: when the root's failure was first seen, the maintenance window holding the incident's pages,
  // and the roots it had before a hand-over (the first is the review's first failing probe).
  `
  ALTER TABLE incidents ADD COLUMN detected_at INTEGER;
  ALTER TABLE incidents ADD COLUMN maintenance TEXT;
  ALTER TABLE incidents ADD COLUMN former_roots TEXT NOT NULL DEFAULT '[]';
  `,
  // 3: operators' silences: matchers (NULL matches any), when they hold pages, why and who.
  `
  CREATE TABLE silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    probe TEXT,
    service TEXT,
    environment TEXT,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expired_by TEXT,
    CHECK (probe IS NOT NULL OR service IS NOT NULL OR environment IS NOT NULL),
    CHECK (ends_at >= starts_at)
  ) STRICT;
  CREATE INDEX silences_ends_at ON silences (ends_at);
  `,
  // 4: the Better Stack on-call incidents created for vigil's incidents. outbox_id is the create
  // message that made each: UNIQUE, so a create retried after a crash finds it instead of paging twice.
  `
  CREATE TABLE oncall_incidents (
    remote_id TEXT PRIMARY KEY,
    incident_id INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX oncall_incidents_of ON oncall_incidents (incident_id);
  CREATE INDEX oncall_incidents_active ON oncall_incidents (remote_id) WHERE state != 'resolved';
  -- /status lists the messages given up recently.
  CREATE INDEX outbox_dead ON outbox (dead_at) WHERE state = 'dead';
  `,
  // 5: the last heartbeat of each push probe (POST /api/push/{id}), and since when one is expected,
  // so a restart neither forgets a ping nor restarts the clock of a job that never pinged.
  `
  CREATE TABLE push_pings (
    probe TEXT PRIMARY KEY,
    watching_since INTEGER NOT NULL,
    at INTEGER,
    ok INTEGER,
    message TEXT
  ) STRICT, WITHOUT ROWID;
  `,
  // 6: sends of a message that got no answer (timed out, cut off): past a bound it is not sent again.
  `
  ALTER TABLE outbox ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
  `,
  // 7: the worst severity the incident has paged at since it last (re)opened: a rise back to it is not paged again.
  `
  ALTER TABLE incidents ADD COLUMN paged_severity TEXT CHECK (paged_severity IN ('S1', 'S2', 'S3', 'S4'));
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export type MigrationFailure =
  | { kind: 'newer'; found: number }
  | { kind: 'failed'; to: number; cause: unknown };

/**
 * Brings `db` up to SCHEMA_VERSION. Each step runs in its own transaction together with its
 * user_version bump, so a crash mid-migration leaves the file at the previous, consistent version.
 * Returns what went wrong instead of throwing, so the caller can name the file in its error.
 */
export function migrate(db: Database): MigrationFailure | null {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) return { kind: 'newer', found };
  for (let version = found; version < SCHEMA_VERSION; version++) {
    try {
      db.transaction(() => {
        db.exec(MIGRATIONS[version] as string);
        db.pragma(`user_version = ${version + 1}`);
      })();
    } catch (cause) {
      return { kind: 'failed', to: version + 1, cause };
    }
  }
  return null;
}
