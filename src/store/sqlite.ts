// The Store on better-sqlite3 (WAL): incidents, timelines, finding counters, outbox, hourly uptime.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Incident, OutboundMessage, PushPing, PushState, SubjectState, TimelineEntry } from '../types.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import {
  incidentFromRow,
  incidentParams,
  messageFromRow,
  subjectFromRow,
  subjectParams,
  timelineFromRow,
  type IncidentRow,
  type PendingMessage,
} from './rows.js';
import type { Silence } from '../incidents/silences.js';
import { SilenceTable } from './silences.js';
import { deadFromRow, oncallFromRow, prepareOncallStatements, type DeadMessage, type OncallIncident, type OncallState, type OncallStatements } from './oncall.js';
import { prepareStatements, type Statements } from './statements.js';
import type { IncidentQuery, NewSilence, SilenceQuery, Store, StoreChange, UptimeRow, UptimeSample } from './store.js';

export type { PendingMessage } from './rows.js';

const HOUR_MS = 3_600_000;
const BUSY_TIMEOUT_MS = 5_000;
const WAL_SIZE_LIMIT = 4 * 1024 * 1024;
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;

/** The store could not be opened or migrated; the message names the file and the reason. */
export class StoreError extends Error {
  readonly code = 'VIGIL_ERR_STORE';
  override name = 'StoreError';
}

export interface StoreOptions {
  /** Clock for "is this message due yet"; tests pass a fake one. */
  now?: () => number;
}

/**
 * Opens (creating it and its directory if missing) and migrates the store at `path`, or an
 * in-memory one for ':memory:'. Throws StoreError when that is not possible.
 */
export function openStore(path: string, opts: StoreOptions = {}): SqliteStore {
  return new SqliteStore(openDatabase(path), path, opts.now ?? Date.now);
}

function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') {
    const dir = dirname(resolve(path));
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot open ${path}: cannot create directory ${dir} (${reason(err)})`, { cause: err });
    }
    try {
      // WAL keeps two files beside the database, so the directory itself must be writable.
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new StoreError(`cannot open ${path}: directory ${dir} is not writable`, { cause: err });
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    // Only takes effect on a new file; lets prune() hand freed pages back to the filesystem.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit is in the WAL before apply() returns, so a process crash or SIGKILL
    // loses nothing; only an OS crash or power cut can lose the last transactions. FULL would
    // fsync on every commit for no gain against the failures a daemon actually sees.
    db.pragma('synchronous = NORMAL');
    // After a burst (a big prune) the WAL is cut back to this instead of keeping its high-water size.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    db?.close();
    throw new StoreError(`cannot open ${path}: ${reason(err)}`, { cause: err });
  }
  const failure = migrate(db);
  if (failure) {
    db.close();
    if (failure.kind === 'newer') {
      throw new StoreError(`${path} was written by a newer vigil (schema ${failure.found} > ${SCHEMA_VERSION})`);
    }
    throw new StoreError(`cannot migrate ${path} to schema ${failure.to}: ${reason(failure.cause)}`, {
      cause: failure.cause,
    });
  }
  return db;
}

function reason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_NOTADB') return 'not a SQLite database';
  if (code === 'SQLITE_CANTOPEN') return 'unable to open the file (is it a directory, or its directory missing?)';
  if (code === 'SQLITE_READONLY') return 'the file is read-only';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a directory';
  return err instanceof Error ? err.message : String(err);
}

export class SqliteStore implements Store {
  /** The path as given to openStore, for messages. */
  readonly path: string;
  #db: Database.Database;
  #now: () => number;
  #s: Statements;
  readonly #silences: SilenceTable;
  #oncall: OncallStatements;
  #closed = false;
  /** Runs not yet written, one aggregate per probe-hour, keyed `probe \0 hour`. */
  #uptime = new Map<string, UptimeRow>();
  #applyTx: (change: StoreChange) => OutboundMessage[];
  #flushTx: (rows: UptimeRow[]) => void;
  #releaseTx: (ids: readonly number[], at: number, rewrite: ((body: unknown) => unknown) | undefined) => number;
  #pruneTx: (cutoff: number) => { incidents: number; messages: number; uptime: number };

  constructor(db: Database.Database, path: string, now: () => number) {
    this.#db = db;
    this.path = path;
    this.#now = now;
    const s = (this.#s = prepareStatements(db));
    const silences = (this.#silences = new SilenceTable(db));
    const oncall = (this.#oncall = prepareOncallStatements(db));
    this.#applyTx = db.transaction((change: StoreChange) => {
      // Incidents first: timeline rows reference them.
      for (const incident of change.incidents) s.upsertIncident.run(incidentParams(incident));
      for (const subject of change.subjects) s.upsertSubject.run(subjectParams(subject));
      for (const { incidentId, entry } of change.timeline) {
        s.appendTimeline.run(incidentId, incidentId, entry.at, entry.event, entry.detail, entry.by ?? null);
      }
      return change.messages.map((m): OutboundMessage => {
        const body = JSON.stringify(m.body ?? null);
        const info = s.insertMessage.run(m.sink, m.channel, m.createdAt, m.incidentId, m.event, body, Math.max(m.createdAt, m.holdUntil ?? m.createdAt));
        const { holdUntil: _held, ...message } = m;
        return { ...message, id: Number(info.lastInsertRowid) };
      });
    });
    this.#releaseTx = db.transaction((ids: readonly number[], at: number, rewrite: ((body: unknown) => unknown) | undefined) => {
      let released = 0;
      for (const id of ids) {
        const held = s.heldMessage.get(id);
        if (!held) continue;
        const body = rewrite ? JSON.stringify(rewrite(JSON.parse(held.body) as unknown) ?? null) : held.body;
        released += s.releaseMessage.run(body, at, id).changes;
      }
      return released;
    });
    this.#flushTx = db.transaction((rows: UptimeRow[]) => {
      for (const row of rows) s.addUptime.run(row);
    });
    this.#pruneTx = db.transaction((cutoff: number) => {
      s.rememberLastIncidentId.run();
      silences.prune(cutoff);
      oncall.prune.run(cutoff);
      return {
        incidents: s.pruneIncidents.run(cutoff).changes,
        messages: s.pruneMessages.run(cutoff).changes,
        // Only hours that ended before the cutoff.
        uptime: s.pruneUptime.run(cutoff - HOUR_MS).changes,
      };
    });
  }

  loadEngineState(resolvedSince: number): { subjects: SubjectState[]; incidents: Incident[]; nextIncidentId: number } {
    return {
      subjects: this.#s.subjects.all().map(subjectFromRow),
      incidents: this.#s.incidentsToResume.all(resolvedSince).map((r) => this.#withTimeline(r)),
      nextIncidentId: this.#s.nextIncidentId.get()?.next ?? 1,
    };
  }

  /**
   * Writes one engine step in a single transaction. A step that changed nothing (the steady state
   * of a healthy fleet) does not touch the file at all: that is what keeps the store small.
   * A timeline entry for an incident that is neither in the change nor stored violates a foreign
   * key and rolls the whole step back; subjects and messages may name any incident id.
   */
  apply(change: StoreChange): OutboundMessage[] {
    const empty =
      change.incidents.length === 0 &&
      change.subjects.length === 0 &&
      change.timeline.length === 0 &&
      change.messages.length === 0;
    return empty ? [] : this.#applyTx(change);
  }

  getIncident(id: number): Incident | null {
    const row = this.#s.incident.get(id);
    return row ? this.#withTimeline(row) : null;
  }

  /** Newest first; `open` means open or acknowledged; limit defaults to 50, at most 500. */
  listIncidents(q: IncidentQuery = {}): Incident[] {
    const wanted = Math.floor(q.limit ?? DEFAULT_LIST_LIMIT);
    const limit = Number.isFinite(wanted) && wanted >= 1 ? Math.min(wanted, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
    const stmt = q.state === 'open' ? this.#s.listOpen : q.state === 'resolved' ? this.#s.listResolved : this.#s.listAll;
    return stmt.all(limit).map((r) => this.#withTimeline(r));
  }

  /** Counts the run into its probe-hour in memory; nothing is written until flushUptime(). */
  recordRun(sample: UptimeSample): void {
    const hour = Math.floor(sample.at / HOUR_MS) * HOUR_MS;
    const key = `${sample.probe}\0${hour}`;
    let row = this.#uptime.get(key);
    if (!row) {
      row = { probe: sample.probe, environment: sample.environment, service: sample.service, hour, ok: 0, failed: 0 };
      this.#uptime.set(key, row);
    }
    if (sample.ok) row.ok++;
    else row.failed++;
  }

  /** Adds the buffered counts to the hourly rows in one transaction; a no-op when nothing is buffered. */
  flushUptime(): void {
    if (this.#uptime.size === 0) return;
    this.#flushTx([...this.#uptime.values()]);
    // Cleared only after the commit, so a failed flush keeps the counts for the next try.
    this.#uptime.clear();
  }

  /** Hourly rows of every hour that overlaps [sinceMs, now), by probe then hour; flushes first. */
  uptime(sinceMs: number): UptimeRow[] {
    this.flushUptime();
    return this.#s.uptimeSince.all(sinceMs - HOUR_MS);
  }

  /** Due messages (pending, next attempt not in the future), oldest first. */
  pendingMessages(limit: number): PendingMessage[] {
    return this.#s.pending.all({ now: this.#now(), limit }).map(messageFromRow);
  }

  releaseMessages(ids: readonly number[], at: number, rewrite?: (body: unknown) => unknown): number {
    return ids.length === 0 ? 0 : this.#releaseTx(ids, at, rewrite);
  }

  markDelivered(id: number, at: number): void {
    this.#s.delivered.run(at, id);
  }

  markFailed(id: number, error: string, nextAttemptAt: number): void {
    this.#s.failed.run(error, nextAttemptAt, id);
  }

  markDead(id: number, error: string, at: number): void {
    this.#s.dead.run(error, at, id);
  }

  /** Every message not yet delivered or given up, including those waiting for a retry. */
  pendingCount(): number {
    return this.#s.pendingCount.get()?.n ?? 0;
  }

  deadMessages(since: number, limit: number): DeadMessage[] {
    return this.#oncall.dead.all(since, limit).map(deadFromRow);
  }

  oncallCreatedBy(outboxId: number): OncallIncident | null {
    const row = this.#oncall.byOutbox.get(outboxId);
    return row ? oncallFromRow(row) : null;
  }

  oncallIncidentsOf(incidentId: number): OncallIncident[] {
    return this.#oncall.of.all(incidentId).map(oncallFromRow);
  }

  activeOncallIncidents(): OncallIncident[] {
    return this.#oncall.active.all().map(oncallFromRow);
  }

  recordOncallIncident(row: { remoteId: string; incidentId: number; outboxId: number; at: number }): void {
    this.#oncall.insert.run(row.remoteId, row.incidentId, row.outboxId, row.at, row.at);
  }

  setOncallState(remoteId: string, state: Exclude<OncallState, 'open'>, at: number): boolean {
    return this.#oncall.setState.run(state, at, remoteId, state).changes > 0;
  }

  prune(now: number, retentionMs: number): { incidents: number; messages: number; uptime: number } {
    this.flushUptime();
    const counts = this.#pruneTx(now - retentionMs);
    if (counts.incidents + counts.messages + counts.uptime > 0) this.#db.pragma('incremental_vacuum');
    return counts;
  }

  addSilence(silence: NewSilence): Silence {
    return this.#silences.add(silence);
  }

  getSilence(id: number): Silence | null {
    return this.#silences.get(id);
  }

  listSilences(q: SilenceQuery = {}): Silence[] {
    return this.#silences.list(q);
  }

  expireSilence(id: number, by: string, at: number): Silence | null {
    return this.#silences.expire(id, by, at);
  }

  watchPush(probe: string, now: number): void {
    this.#s.watchPush.run(probe, now);
  }

  recordPush(probe: string, ping: PushPing): void {
    this.#s.recordPush.run({ probe, at: ping.at, ok: ping.ok ? 1 : 0, message: ping.message });
  }

  pushState(probe: string): PushState | null {
    const row = this.#s.pushState.get(probe);
    if (!row) return null;
    const last = row.at === null ? null : { at: row.at, ok: row.ok === 1, message: row.message };
    return { watchingSince: row.watching_since, last };
  }

  ping(now: number): void {
    this.#s.setMeta.run('heartbeat', now);
  }

  /** Bytes on disk: the database pages plus the WAL file not yet checkpointed into them. */
  sizeBytes(): number {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    let wal = 0;
    if (!this.#db.memory) {
      try {
        wal = statSync(`${this.#db.name}-wal`).size;
      } catch {
        // No WAL file: everything is in the database file.
      }
    }
    return pages * pageSize + wal;
  }

  /** Flushes uptime, folds the WAL back into the database and closes. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.flushUptime();
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.close();
    }
  }

  #withTimeline(row: IncidentRow): Incident {
    const timeline: TimelineEntry[] = this.#s.timelineOf.all(row.id).map(timelineFromRow);
    return incidentFromRow(row, timeline);
  }
}
