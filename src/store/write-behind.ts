// The daemon's store: while the store refuses writes (SQLite on a full disk, PostgreSQL down or
// restarting), changes are kept in memory so pages still go out, and are written back in one
// transaction once it writes again.
import type { Logger } from 'pino';
import type { Incident, OutboundMessage, SubjectState, TimelineEntry } from '../types.js';
import { StoreUnavailableError } from './errors.js';
import { messageFromRow, type MessageState, type WriteBack } from './rows.js';
import type { IncidentQuery, PendingMessage, Store, StoreChange, UptimeRow, UptimeSample } from './store.js';

/** How often a write-back is tried while writes fail, at most. */
const RETRY_MS = 1_000;

/**
 * Errors that say the store cannot be written now, not that the change is wrong: SQLite's disk full,
 * I/O, locked; a StoreUnavailableError (PostgreSQL unreachable, restarting, out of room, no answer in time).
 */
export function isWriteFailure(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'VIGIL_ERR_STORE_UNAVAILABLE' || /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|NOMEM|PROTOCOL)/.test(code));
}

/** A store WriteBehindStore can hold changes for: it writes back what was held, and reads single outbox rows. */
export interface BackingStore extends Store {
  /** Writes back, in one transaction, what was kept in memory while the store refused writes. */
  writeBack(w: WriteBack): void;
  /** One outbox row as stored, whatever its state; null when there is none. */
  messageState(id: number): MessageState | null;
  /** The highest outbox id ever handed out. */
  lastMessageId(): number;
  /** The uptime rows stored, without flushing the buffer first. */
  storedUptime(sinceMs: number): UptimeRow[];
}

interface Held {
  incidents: Map<number, Incident>;
  subjects: Map<string, SubjectState>;
  timeline: Array<{ incidentId: number; entry: TimelineEntry }>;
  /** Messages created meanwhile, and stored ones whose delivery moved on, as their whole rows. */
  created: Map<number, MessageState>;
  updated: Map<number, MessageState>;
}

export interface WriteBehindOptions {
  log: Logger;
  now?: () => number;
  /** Called on every write the store refused (vigil_store_write_failures_total). */
  onFailure?: () => void;
}

export class WriteBehindStore implements Store {
  readonly #inner: BackingStore;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onFailure: () => void;
  #held: Held | null = null;
  #nextId = 0;
  #lastTry = 0;
  /** The due messages last read, as rows: what a delivery result is laid over when the store cannot be read either. */
  #lastRead = new Map<number, MessageState>();

  constructor(inner: BackingStore, opts: WriteBehindOptions) {
    this.#inner = inner;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#onFailure = opts.onFailure ?? (() => undefined);
  }

  /** True while changes wait in memory for the store to write again. */
  writesFailing(): boolean {
    return this.#held !== null;
  }

  /** Tries to write back what is held; true when nothing is held any more. */
  retry(): boolean {
    const held = this.#held;
    if (!held) return true;
    this.#lastTry = this.#now();
    const back: WriteBack = {
      incidents: [...held.incidents.values()],
      subjects: [...held.subjects.values()],
      timeline: held.timeline,
      created: [...held.created.values()].sort((a, b) => a.id - b.id),
      updated: [...held.updated.values()],
    };
    try {
      this.#inner.writeBack(back);
    } catch (err) {
      if (!isWriteFailure(err)) throw err;
      this.#onFailure();
      return false;
    }
    this.#held = null;
    this.#log.info({ incidents: back.incidents.length, messages: back.created.length + back.updated.length }, 'store writes again: the changes kept in memory are written');
    return true;
  }

  /** Runs `write` on the store, or, while it refuses writes, `hold` on the memory copy. */
  #write<T>(write: () => T, hold: (held: Held) => T): T {
    if (this.#held && (this.#now() - this.#lastTry < RETRY_MS || !this.retry())) return hold(this.#held);
    try {
      return write();
    } catch (err) {
      if (!isWriteFailure(err)) throw err;
      this.#onFailure();
      this.#lastTry = this.#now();
      this.#held = { incidents: new Map(), subjects: new Map(), timeline: [], created: new Map(), updated: new Map() };
      try {
        this.#nextId = this.#inner.lastMessageId() + 1;
      } catch {
        this.#nextId = Date.now(); // past any id a store of this age can have handed out
      }
      const e = err as Error & { code?: string };
      this.#log.error({ err: { code: e.code, message: e.message } }, 'store write failed: incident changes are kept in memory and paged from there until the store writes again');
      return hold(this.#held);
    }
  }

  apply(change: StoreChange): OutboundMessage[] {
    return this.#write(
      () => this.#inner.apply(change),
      (held) => {
        for (const incident of change.incidents) held.incidents.set(incident.id, incident);
        for (const subject of change.subjects) held.subjects.set(subject.key, subject);
        held.timeline.push(...change.timeline);
        return change.messages.map((m) => {
          const id = this.#nextId++;
          held.created.set(id, {
            id, sink: m.sink, channel: m.channel, created_at: m.createdAt, incident_id: m.incidentId, event: m.event,
            body: JSON.stringify(m.body ?? null), attempts: 0, unanswered: 0, last_error: null,
            next_attempt_at: Math.max(m.createdAt, m.holdUntil ?? m.createdAt), state: 'pending', delivered_at: null, dead_at: null,
          });
          const { holdUntil: _held, ...message } = m;
          return { ...message, id };
        });
      },
    );
  }

  /** The row of message `id` as it stands now, taken into memory to be changed there. */
  #heldRow(held: Held, id: number): MessageState | null {
    const row = held.created.get(id) ?? held.updated.get(id) ?? this.#storedRow(id);
    if (!row || row.state !== 'pending') return null;
    if (!held.created.has(id)) held.updated.set(id, row);
    return row;
  }

  /** The stored row of message `id`; the one last read when the store cannot be read now (PostgreSQL down). */
  #storedRow(id: number): MessageState | null {
    try {
      return this.#inner.messageState(id);
    } catch (err) {
      const last = this.#lastRead.get(id);
      if (!last || !isWriteFailure(err)) throw err;
      return { ...last };
    }
  }

  releaseMessages(ids: readonly number[], at: number, rewrite?: (body: unknown) => unknown): number {
    return this.#write(
      () => this.#inner.releaseMessages(ids, at, rewrite),
      (held) => {
        let released = 0;
        for (const id of ids) {
          const row = this.#heldRow(held, id);
          if (!row || row.attempts > 0) continue;
          if (rewrite) row.body = JSON.stringify(rewrite(JSON.parse(row.body) as unknown) ?? null);
          row.next_attempt_at = Math.min(row.next_attempt_at, at);
          released++;
        }
        return released;
      },
    );
  }

  markDelivered(id: number, at: number): void {
    this.#write(
      () => this.#inner.markDelivered(id, at),
      (held) => {
        const row = this.#heldRow(held, id);
        if (row) Object.assign(row, { state: 'delivered', delivered_at: at });
      },
    );
  }

  markFailed(id: number, error: string, nextAttemptAt: number, unanswered = false): void {
    this.#write(
      () => this.#inner.markFailed(id, error, nextAttemptAt, unanswered),
      (held) => {
        const row = this.#heldRow(held, id);
        if (row) Object.assign(row, { attempts: row.attempts + 1, unanswered: row.unanswered + (unanswered ? 1 : 0), last_error: error, next_attempt_at: nextAttemptAt });
      },
    );
  }

  markDead(id: number, error: string, at: number): void {
    this.#write(
      () => this.#inner.markDead(id, error, at),
      (held) => {
        const row = this.#heldRow(held, id);
        if (row) Object.assign(row, { state: 'dead', last_error: error, dead_at: at });
      },
    );
  }

  /** The store's due messages with the memory copy laid over them, oldest first. */
  pendingMessages(limit: number): PendingMessage[] {
    const held = this.#held;
    let stored: PendingMessage[] = [];
    try {
      stored = this.#inner.pendingMessages(limit);
      this.#lastRead = new Map(stored.map((m) => [m.id, pendingRow(m, this.#now())]));
    } catch (err) {
      // A store that cannot even be read still leaves the messages held in memory to deliver.
      if (!held) throw err;
    }
    if (!held) return stored;
    const now = this.#now();
    const rows = [...held.created.values(), ...held.updated.values()];
    const due = rows.filter((r) => r.state === 'pending' && r.next_attempt_at <= now).map(messageFromRow);
    return [...stored.filter((m) => !held.updated.has(m.id)), ...due].sort((a, b) => a.id - b.id).slice(0, limit);
  }

  pendingCount(): number {
    let stored = 0;
    try {
      stored = this.#inner.pendingCount();
    } catch (err) {
      if (!this.#held) throw err;
    }
    const held = this.#held;
    if (!held) return stored;
    const settled = [...held.updated.values()].filter((r) => r.state !== 'pending').length;
    return stored - settled + [...held.created.values()].filter((r) => r.state === 'pending').length;
  }

  getIncident(id: number): Incident | null {
    return this.#held?.incidents.get(id) ?? this.#inner.getIncident(id);
  }

  listIncidents(q: IncidentQuery): Incident[] {
    const stored = this.#inner.listIncidents(q);
    const held = this.#held;
    if (!held || held.incidents.size === 0) return stored;
    const wanted = (i: Incident) => q.state === undefined || (q.state === 'resolved') === (i.state === 'resolved');
    const merged = new Map(stored.map((i) => [i.id, i]));
    for (const i of held.incidents.values()) {
      if (wanted(i)) merged.set(i.id, i);
      else merged.delete(i.id);
    }
    return [...merged.values()].sort((a, b) => b.id - a.id).slice(0, Math.max(stored.length, q.limit ?? 50));
  }

  loadEngineState(resolvedSince: number): ReturnType<Store['loadEngineState']> {
    return this.#inner.loadEngineState(resolvedSince);
  }

  recordRun(sample: UptimeSample): void {
    this.#inner.recordRun(sample);
  }

  flushUptime(): void {
    this.#counted(() => this.#inner.flushUptime());
  }

  uptime(sinceMs: number): UptimeRow[] {
    try {
      return this.#inner.uptime(sinceMs);
    } catch (err) {
      if (!isWriteFailure(err)) throw err;
      // The flush before the read failed; the hours already stored still read.
      return this.#inner.storedUptime(sinceMs);
    }
  }

  prune(now: number, retentionMs: number): { incidents: number; messages: number; uptime: number } {
    return this.#counted(() => this.#inner.prune(now, retentionMs));
  }

  /** Writes the heartbeat row, first writing back what is held: either failing means the store does not write. */
  ping(now: number): void {
    if (!this.retry()) throw new Error('the store still refuses writes');
    this.#counted(() => this.#inner.ping(now));
  }

  sizeBytes(): number {
    return this.#inner.sizeBytes();
  }

  // Silences, on-call incident ids, push heartbeats and given-up messages are not incident changes:
  // while the store refuses writes they fail (and are counted) instead of being held in memory.
  deadMessages(since: number, limit: number): ReturnType<Store['deadMessages']> {
    return this.#inner.deadMessages(since, limit);
  }

  oncallCreatedBy(outboxId: number): ReturnType<Store['oncallCreatedBy']> {
    return this.#inner.oncallCreatedBy(outboxId);
  }

  oncallIncidentsOf(incidentId: number): ReturnType<Store['oncallIncidentsOf']> {
    return this.#inner.oncallIncidentsOf(incidentId);
  }

  activeOncallIncidents(): ReturnType<Store['activeOncallIncidents']> {
    return this.#inner.activeOncallIncidents();
  }

  recordOncallIncident(row: Parameters<Store['recordOncallIncident']>[0]): void {
    this.#counted(() => this.#inner.recordOncallIncident(row));
  }

  setOncallState(...args: Parameters<Store['setOncallState']>): boolean {
    return this.#counted(() => this.#inner.setOncallState(...args));
  }

  addSilence(silence: Parameters<Store['addSilence']>[0]): ReturnType<Store['addSilence']> {
    return this.#counted(() => this.#inner.addSilence(silence));
  }

  getSilence(id: number): ReturnType<Store['getSilence']> {
    return this.#inner.getSilence(id);
  }

  listSilences(q?: Parameters<Store['listSilences']>[0]): ReturnType<Store['listSilences']> {
    return this.#inner.listSilences(q);
  }

  expireSilence(...args: Parameters<Store['expireSilence']>): ReturnType<Store['expireSilence']> {
    return this.#counted(() => this.#inner.expireSilence(...args));
  }

  watchPush(probe: string, now: number): void {
    this.#counted(() => this.#inner.watchPush(probe, now));
  }

  recordPush(...args: Parameters<Store['recordPush']>): void {
    this.#counted(() => this.#inner.recordPush(...args));
  }

  pushState(probe: string): ReturnType<Store['pushState']> {
    return this.#inner.pushState(probe);
  }

  close(): void {
    if (this.#held && !this.retry()) {
      const held = this.#held;
      this.#log.error(
        { incidents: held.incidents.size, messages: held.created.size + held.updated.size },
        'store still refuses writes at shutdown: the incident changes kept in memory are lost; a restart may page them again',
      );
    }
    try {
      this.#inner.close();
    } catch (err) {
      // The last uptime counts or checkpoint did not fit: the incidents are in already.
      if (!isWriteFailure(err)) throw err;
      this.#onFailure();
      this.#log.error({ err: { code: (err as { code?: string }).code } }, 'store: closing could not write the last uptime counts');
    }
  }

  #counted<T>(write: () => T): T {
    try {
      return write();
    } catch (err) {
      if (isWriteFailure(err)) this.#onFailure();
      throw err;
    }
  }
}

/** A due message read from the store, back as the row it was: pending, due by `now`. */
function pendingRow(m: PendingMessage, now: number): MessageState {
  return {
    id: m.id, sink: m.sink, channel: m.channel, created_at: m.createdAt, incident_id: m.incidentId, event: m.event,
    body: JSON.stringify(m.body ?? null), attempts: m.attempts, unanswered: m.unanswered, last_error: m.lastError,
    next_attempt_at: now, state: 'pending', delivered_at: null, dead_at: null,
  };
}
