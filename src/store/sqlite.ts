// The Store on better-sqlite3 (WAL): incidents, timelines, finding counters, outbox, hourly uptime.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Incident, OutboundMessage, PushPing, PushState, SubjectState, TimelineEntry } from '../types.js';
import { openDatabase, StoreLock, writeHolder } from './open.js';
import {
  incidentFromRow,
  incidentParams,
  messageFromRow,
  subjectFromRow,
  subjectParams,
  timelineFromRow,
  type IncidentRow,
  type MessageState,
  type PendingMessage,
  type WriteBack,
} from './rows.js';
import type { Silence } from '../incidents/silences.js';
import { SilenceTable } from './silences.js';
import { deadFromRow, oncallFromRow, prepareOncallStatements, type DeadMessage, type OncallIncident, type OncallState, type OncallStatements } from './oncall.js';
import { prepareStatements, type Statements } from './statements.js';
import { HOUR_MS, UptimeBuffer } from './uptime-buffer.js';
import type { IncidentQuery, NewSilence, SilenceQuery, Store, StoreChange, UptimeRow, UptimeSample } from './store.js';

export type { PendingMessage } from './rows.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;

export { StoreError, StoreInUseError } from './open.js';

export interface StoreOptions {
  /** Clock for "is this message due yet"; tests pass a fake one. */
  now?: () => number;
  /**
   * Hold the store for this process alone (the daemon): a second holder is refused with a
   * StoreInUseError naming the first. Readers (`vigil incidents`, `vigil review`) do not ask for it.
   */
  exclusive?: boolean;
}

/**
 * Opens (creating it and its directory if missing) and migrates the store at `path`, or an
 * in-memory one for ':memory:'. Throws StoreError when that is not possible.
 */
export function openStore(path: string, opts: StoreOptions = {}): SqliteStore {
  const lock = opts.exclusive && path !== ':memory:' ? acquireLock(path) : null;
  try {
    const db = openDatabase(path);
    if (lock) {
      try {
        writeHolder(db);
      } catch {
        // Only the message a second daemon prints needs it; a full disk must not stop this one.
      }
    }
    return new SqliteStore(db, path, opts.now ?? Date.now, lock);
  } catch (err) {
    lock?.release();
    throw err;
  }
}

function acquireLock(path: string): StoreLock {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
  } catch {
    // openDatabase says what is wrong with the directory.
  }
  return StoreLock.acquire(path);
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
  readonly #lock: StoreLock | null;
  /** Runs not yet written. */
  readonly #uptime = new UptimeBuffer();
  #applyTx: (change: StoreChange) => OutboundMessage[];
  #flushTx: (rows: UptimeRow[]) => void;
  #releaseTx: (ids: readonly number[], at: number, rewrite: ((body: unknown) => unknown) | undefined) => number;
  #pruneTx: (cutoff: number) => { incidents: number; messages: number; uptime: number };
  #writeBackTx: (w: WriteBack) => void;

  constructor(db: Database.Database, path: string, now: () => number, lock: StoreLock | null = null) {
    this.#db = db;
    this.#lock = lock;
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
    this.#writeBackTx = db.transaction((w: WriteBack) => {
      for (const incident of w.incidents) s.upsertIncident.run(incidentParams(incident));
      for (const subject of w.subjects) s.upsertSubject.run(subjectParams(subject));
      for (const { incidentId, entry } of w.timeline) {
        s.appendTimeline.run(incidentId, incidentId, entry.at, entry.event, entry.detail, entry.by ?? null);
      }
      for (const m of w.created) s.insertMessageAs.run(m);
      for (const m of w.updated) s.updateMessageAs.run(m);
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
    this.#uptime.record(sample);
  }

  /** Adds the buffered counts to the hourly rows in one transaction; a no-op when nothing is buffered. */
  flushUptime(): void {
    this.#uptime.flush(this.#flushTx);
  }

  uptime(sinceMs: number): UptimeRow[] {
    this.flushUptime();
    return this.storedUptime(sinceMs);
  }

  /** As uptime(), without flushing first: what is on disk. */
  storedUptime(sinceMs: number): UptimeRow[] {
    return this.#s.uptimeSince.all(sinceMs - HOUR_MS);
  }

  /** Due messages (pending, next attempt not in the future), oldest first. */
  pendingMessages(limit: number): PendingMessage[] {
    return this.#s.pending.all({ now: this.#now(), limit }).map(messageFromRow);
  }

  releaseMessages(ids: readonly number[], at: number, rewrite?: (body: unknown) => unknown): number {
    return ids.length === 0 ? 0 : this.#releaseTx(ids, at, rewrite);
  }

  /** Writes back, in one transaction, what was kept in memory while the store refused writes. */
  writeBack(w: WriteBack): void {
    this.#writeBackTx(w);
  }

  /** One outbox row as stored, whatever its state; null when there is none. */
  messageState(id: number): MessageState | null {
    const row = this.#s.messageById.get(id);
    return row ? { ...row, state: row.state as MessageState['state'], delivered_at: null, dead_at: null } : null;
  }

  /** The highest outbox id ever handed out (ids are never reused). */
  lastMessageId(): number {
    return this.#s.lastMessageId.get()?.last ?? 0;
  }

  markDelivered(id: number, at: number): void {
    this.#s.delivered.run(at, id);
  }

  markFailed(id: number, error: string, nextAttemptAt: number, unanswered = false): void {
    this.#s.failed.run(unanswered ? 1 : 0, error, nextAttemptAt, id);
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
      this.#lock?.release();
    }
  }

  #withTimeline(row: IncidentRow): Incident {
    const timeline: TimelineEntry[] = this.#s.timelineOf.all(row.id).map(timelineFromRow);
    return incidentFromRow(row, timeline);
  }
}
