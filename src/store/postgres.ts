// The Store on PostgreSQL, shared by replicas: each method is one synchronous call into a worker thread
// (synckit) that runs its statements on a pg Client, in one transaction where the SQLite store uses one.
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncFn } from 'synckit';
import type { Silence } from '../incidents/silences.js';
import type { Incident, OutboundMessage, PushPing, PushState, SubjectState, TimelineEntry } from '../types.js';
import { StoreError, StoreUnavailableError } from './errors.js';
import { deadFromRow, oncallFromRow, type DeadMessage, type DeadRow, type OncallIncident, type OncallRow, type OncallState } from './oncall.js';
import { PG_MIGRATIONS, PG_TABLES } from './pg-migrations.js';
import { SQL } from './pg-statements.js';
import type { Statement, StatementResult, WorkerReply, WorkerRequest } from './pg-worker.js';

export type { Statement, StatementResult } from './pg-worker.js';
import {
  incidentFromRow,
  incidentParams,
  messageFromRow,
  subjectFromRow,
  subjectParams,
  timelineFromRow,
  type IncidentRow,
  type MessageState,
  type OutboxRow,
  type SubjectRow,
  type TimelineRow,
  type WriteBack,
} from './rows.js';
import { silenceFromRow, type SilenceRow } from './silences.js';
import type { IncidentQuery, NewSilence, PendingMessage, SilenceQuery, Store, StoreChange, UptimeRow, UptimeSample } from './store.js';
import { HOUR_MS, UptimeBuffer } from './uptime-buffer.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;
/** How long one call may wait for PostgreSQL before the store counts as unavailable. */
const CALL_TIMEOUT_MS = 5_000;
/** Opening may wait for another replica that is migrating the schema. */
const OPEN_TIMEOUT_MS = 30_000;
/** After a call found PostgreSQL unavailable, calls fail without trying for this long, doubling up to MAX_BACKOFF_MS. */
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;
/** Only if the worker thread itself stops answering (its own deadlines come first). */
const WORKER_TIMEOUT_MS = OPEN_TIMEOUT_MS + 15_000;
/** pg_advisory_xact_lock(vigl, 1) serializes migrations; other uses of the store take other second keys. */
export const MIGRATION_LOCK: readonly [number, number] = [0x7669676c, 1];

export interface PostgresStoreOptions {
  /** Clock for "is this message due yet"; tests pass a fake one. */
  now?: () => number;
  /** How long a call may wait for PostgreSQL (default 5 s). */
  timeoutMs?: number;
  /** Named in messages instead of the URL, which holds a password: the config key it came from. */
  name?: string;
}

// The worker beside this file: pg-worker.js in dist/. When the tests run the TypeScript sources, it is
// pg-worker.ts and needs this process's TypeScript loader (tap's --import flags): synckit's tsx mode
// starts a .ts worker with the --import flags it is given, and adds none of its own when there is one.
const here = fileURLToPath(import.meta.url);
const fromSources = extname(here) === '.ts';
const WORKER_PATH = join(dirname(here), `pg-worker${extname(here)}`);
const WORKER_OPTIONS = fromSources
  ? { tsRunner: 'tsx' as const, execArgv: process.execArgv.flatMap((a) => (a.startsWith('--import=') ? ['--import', a.slice('--import='.length)] : [])) }
  : { execArgv: [] };

let callWorker: ((req: WorkerRequest) => WorkerReply) | null = null;
let nextHandle = 1;

/** One request to the worker, waited for synchronously; a worker that does not answer is an unavailable store. */
function call(req: WorkerRequest): WorkerReply {
  callWorker ??= createSyncFn<(req: WorkerRequest) => Promise<WorkerReply>>(WORKER_PATH, { timeout: WORKER_TIMEOUT_MS, ...WORKER_OPTIONS });
  try {
    return callWorker(req);
  } catch (err) {
    return { ok: false, error: { message: `the store's worker thread did not answer: ${(err as Error)?.message ?? String(err)}`, code: null, unavailable: true } };
  }
}

/** An SQL statement PostgreSQL refused (a constraint, a type): the change is wrong, not the store. */
export class PostgresQueryError extends Error {
  readonly code: string;
  override name = 'PostgresQueryError';
  constructor(message: string, code: string | null) {
    super(message);
    this.code = code ?? 'VIGIL_ERR_STORE_QUERY';
  }
}

/**
 * Connects to the PostgreSQL database at `url` and migrates it (under an advisory lock, so replicas
 * starting together migrate once). Throws StoreError when that is not possible; never puts the URL in a message.
 */
export function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): PostgresStore {
  const name = opts.name ?? 'the PostgreSQL store';
  const handle = nextHandle++;
  const reply = call({ op: 'open', handle, url, timeoutMs: Math.max(OPEN_TIMEOUT_MS, opts.timeoutMs ?? 0), migrations: PG_MIGRATIONS, lockKey: MIGRATION_LOCK });
  if (!reply.ok || reply.newerSchema !== undefined) {
    call({ op: 'close', handle });
    if (!reply.ok) throw new StoreError(`cannot open ${name}: ${reply.error.message}`);
    throw new StoreError(`${name} was written by a newer vigil (schema ${reply.newerSchema} > ${PG_MIGRATIONS.length})`);
  }
  return new PostgresStore(handle, url, name, opts.now ?? Date.now, opts.timeoutMs ?? CALL_TIMEOUT_MS);
}

/**
 * Whether a new connection to `url` answers within `timeoutMs`: null when it does, else why not. Asked
 * on the event loop, never through the blocking worker, while the store counts as unavailable.
 */
async function answers(url: string, timeoutMs: number): Promise<string | null> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'vigil' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    // Not awaited, and the socket closed: a server that hangs would hold the goodbye too.
    client.end().catch(() => undefined);
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

type Row = Record<string, unknown>;

export class PostgresStore implements Store {
  /** What messages call this store (never the URL). */
  readonly name: string;
  readonly #handle: number;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #url: string;
  #closed = false;
  /** Why PostgreSQL counts as unavailable, from a call that found it so until a new connection answers; calls fail at once meanwhile. */
  #down: string | null = null;
  /** The wait before the next check of an unavailable server; doubles until a call succeeds again. */
  #backoffMs = 0;
  /** Runs not yet written. */
  readonly #uptime = new UptimeBuffer();

  constructor(handle: number, url: string, name: string, now: () => number, timeoutMs: number) {
    this.#handle = handle;
    this.#url = url;
    this.name = name;
    this.#now = now;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs `statements` in one round trip to the worker (in one transaction with `tx`); their results in order. */
  #run(statements: Statement[], tx = false): StatementResult[] {
    if (this.#closed) throw new StoreError(`${this.name} is closed`);
    if (this.#down !== null) throw new StoreUnavailableError(`${this.name} is unavailable: ${this.#down}`);
    const reply = call({ op: 'run', handle: this.#handle, timeoutMs: this.#timeoutMs, tx, statements });
    if (reply.ok) {
      this.#backoffMs = 0;
      return reply.results;
    }
    if (!reply.error.unavailable) throw new PostgresQueryError(reply.error.message, reply.error.code);
    this.#markDown(reply.error.message);
    throw new StoreUnavailableError(`${this.name} is unavailable: ${reply.error.message}`);
  }

  /**
   * Calls fail at once until a new connection, tried on the event loop, answers: a server that hangs
   * costs the daemon one blocking timeout, not one per call or per retry. The checks back off, and
   * the back-off is kept until a call succeeds, so a server that answers a check but not the calls is
   * tried ever more rarely.
   */
  #markDown(reason: string): void {
    this.#down = reason;
    const check = (): void => {
      this.#backoffMs = Math.min(Math.max(2 * this.#backoffMs, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
      setTimeout(() => {
        if (this.#closed) return;
        void answers(this.#url, this.#timeoutMs).then((why) => {
          if (this.#closed) return;
          if (why === null) this.#down = null;
          else {
            this.#down = why;
            check();
          }
        });
      }, this.#backoffMs).unref();
    };
    check();
  }

  /**
   * Runs other statements on this store's connection, in one transaction with `tx`: for the parts of
   * vigil that keep their own tables in the same database. A session-level advisory lock taken here is
   * lost with the connection, which is dropped (and reopened by the next call) whenever it fails.
   * Throws StoreUnavailableError or PostgresQueryError like every other method.
   */
  query(statements: Statement[], tx = false): StatementResult[] {
    return this.#run(statements, tx);
  }

  #rows<T>(text: string, ...values: unknown[]): T[] {
    return this.#run([{ text, values }])[0]!.rows as T[];
  }

  #count(text: string, ...values: unknown[]): number {
    return this.#run([{ text, values }])[0]!.rowCount;
  }

  loadEngineState(resolvedSince: number): { subjects: SubjectState[]; incidents: Incident[]; nextIncidentId: number } {
    const [, subjects, incidents, timeline, next] = this.#run(
      [
        { text: SQL.snapshot },
        { text: SQL.subjects },
        { text: SQL.incidentsToResume, values: [resolvedSince] },
        { text: SQL.timelineToResume, values: [resolvedSince] },
        { text: SQL.nextIncidentId },
      ],
      true,
    );
    return {
      subjects: (subjects!.rows as unknown as SubjectRow[]).map(subjectFromRow),
      incidents: withTimelines(incidents!.rows, timeline!.rows),
      nextIncidentId: (next!.rows[0]?.next as number | undefined) ?? 1,
    };
  }

  /** One transaction, one statement per table; a change that changed nothing is not sent at all. */
  apply(change: StoreChange): OutboundMessage[] {
    const empty = change.incidents.length === 0 && change.subjects.length === 0 && change.timeline.length === 0 && change.messages.length === 0;
    if (empty) return [];
    const messages = change.messages.map((m, n) => ({
      n, sink: m.sink, channel: m.channel, created_at: m.createdAt, incident_id: m.incidentId, event: m.event,
      body: JSON.stringify(m.body ?? null), next_attempt_at: Math.max(m.createdAt, m.holdUntil ?? m.createdAt),
    }));
    const results = this.#run([...stepStatements(change.incidents, change.subjects, change.timeline), { text: SQL.insertMessages, values: [JSON.stringify(messages)] }], true);
    const ids = results.at(-1)!.rows.map((r) => r.id as number).sort((a, b) => a - b);
    return change.messages.map((m, i) => {
      const { holdUntil: _held, ...message } = m;
      return { ...message, id: ids[i]! };
    });
  }

  getIncident(id: number): Incident | null {
    const [incident, timeline] = this.#run([{ text: SQL.snapshot }, { text: SQL.incident, values: [id] }, { text: SQL.timelineOf, values: [id] }], true).slice(1);
    return withTimelines(incident!.rows, timeline!.rows)[0] ?? null;
  }

  /** Newest first; `open` means open or acknowledged; limit defaults to 50, at most 500. */
  listIncidents(q: IncidentQuery = {}): Incident[] {
    const wanted = Math.floor(q.limit ?? DEFAULT_LIST_LIMIT);
    const limit = Number.isFinite(wanted) && wanted >= 1 ? Math.min(wanted, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
    const values = [q.state ?? 'all', limit];
    const [incidents, timeline] = this.#run([{ text: SQL.snapshot }, { text: SQL.listIncidents, values }, { text: SQL.listTimelines, values }], true).slice(1);
    return withTimelines(incidents!.rows, timeline!.rows);
  }

  /** Counts the run into its probe-hour in memory; nothing is written until flushUptime(). */
  recordRun(sample: UptimeSample): void {
    this.#uptime.record(sample);
  }

  flushUptime(): void {
    this.#uptime.flush((rows) => this.#run([{ text: SQL.addUptime, values: [JSON.stringify(rows)] }]));
  }

  uptime(sinceMs: number): UptimeRow[] {
    this.flushUptime();
    return this.storedUptime(sinceMs);
  }

  /** As uptime(), without flushing first: what is stored. */
  storedUptime(sinceMs: number): UptimeRow[] {
    return this.#rows<UptimeRow>(SQL.uptimeSince, sinceMs - HOUR_MS);
  }

  pendingMessages(limit: number): PendingMessage[] {
    return this.#rows<OutboxRow>(SQL.pending, this.#now(), limit).map(messageFromRow);
  }

  /** With `rewrite`, two calls: the held bodies are read, rewritten here, and written only where still never attempted. */
  releaseMessages(ids: readonly number[], at: number, rewrite?: (body: unknown) => unknown): number {
    if (ids.length === 0) return 0;
    if (!rewrite) return this.#count(SQL.releaseMessages, ids, at);
    const held = this.#rows<{ id: number; body: string }>(SQL.heldMessages, ids);
    if (held.length === 0) return 0;
    const rewritten = held.map((m) => ({ id: m.id, body: JSON.stringify(rewrite(JSON.parse(m.body) as unknown) ?? null) }));
    return this.#count(SQL.releaseRewritten, JSON.stringify(rewritten), at);
  }

  /** Writes back, in one transaction, what was kept in memory while the store refused writes. */
  writeBack(w: WriteBack): void {
    this.#run(
      [
        ...stepStatements(w.incidents, w.subjects, w.timeline),
        { text: SQL.insertMessagesAs, values: [JSON.stringify(w.created)] },
        { text: SQL.advanceMessageIds },
        { text: SQL.updateMessagesAs, values: [JSON.stringify(w.updated)] },
      ],
      true,
    );
  }

  /** One outbox row as stored, whatever its state; null when there is none. */
  messageState(id: number): MessageState | null {
    const row = this.#rows<OutboxRow & { next_attempt_at: number; state: MessageState['state'] }>(SQL.messageById, id)[0];
    return row ? { ...row, delivered_at: null, dead_at: null } : null;
  }

  /** The highest outbox id ever handed out (ids are never reused). */
  lastMessageId(): number {
    return (this.#rows<{ last: number }>(SQL.lastMessageId)[0]?.last as number | undefined) ?? 0;
  }

  markDelivered(id: number, at: number): void {
    this.#run([{ text: SQL.delivered, values: [at, id] }]);
  }

  markFailed(id: number, error: string, nextAttemptAt: number, unanswered = false): void {
    this.#run([{ text: SQL.failed, values: [unanswered ? 1 : 0, error, nextAttemptAt, id] }]);
  }

  markDead(id: number, error: string, at: number): void {
    this.#run([{ text: SQL.dead, values: [error, at, id] }]);
  }

  pendingCount(): number {
    return this.#rows<{ n: number }>(SQL.pendingCount)[0]?.n ?? 0;
  }

  deadMessages(since: number, limit: number): DeadMessage[] {
    return this.#rows<DeadRow>(SQL.deadMessages, since, limit).map(deadFromRow);
  }

  oncallCreatedBy(outboxId: number): OncallIncident | null {
    const row = this.#rows<OncallRow>(SQL.oncallByOutbox, outboxId)[0];
    return row ? oncallFromRow(row) : null;
  }

  oncallIncidentsOf(incidentId: number): OncallIncident[] {
    return this.#rows<OncallRow>(SQL.oncallOf, incidentId).map(oncallFromRow);
  }

  activeOncallIncidents(): OncallIncident[] {
    return this.#rows<OncallRow>(SQL.oncallActive).map(oncallFromRow);
  }

  recordOncallIncident(row: { remoteId: string; incidentId: number; outboxId: number; at: number }): void {
    this.#run([{ text: SQL.oncallInsert, values: [row.remoteId, row.incidentId, row.outboxId, row.at, row.at] }]);
  }

  setOncallState(remoteId: string, state: Exclude<OncallState, 'open'>, at: number): boolean {
    return this.#count(SQL.oncallSetState, state, at, remoteId) > 0;
  }

  addSilence(s: NewSilence): Silence {
    const m = s.matchers;
    return silenceFromRow(this.#rows<SilenceRow>(SQL.silenceInsert, m.probe ?? null, m.service ?? null, m.environment ?? null, s.startsAt, s.endsAt, s.reason, s.by)[0]!);
  }

  getSilence(id: number): Silence | null {
    const row = this.#rows<SilenceRow>(SQL.silence, id)[0];
    return row ? silenceFromRow(row) : null;
  }

  listSilences(q: SilenceQuery = {}): Silence[] {
    const limit = q.limit ?? 500;
    const rows = q.activeAt === undefined ? this.#rows<SilenceRow>(SQL.silencesAll, limit) : this.#rows<SilenceRow>(SQL.silencesActive, q.activeAt, limit);
    return rows.map(silenceFromRow);
  }

  expireSilence(id: number, by: string, at: number): Silence | null {
    const row = this.#rows<SilenceRow>(SQL.silenceExpire, at, by, id)[0];
    return row ? silenceFromRow(row) : null;
  }

  watchPush(probe: string, now: number): void {
    this.#run([{ text: SQL.watchPush, values: [probe, now] }]);
  }

  recordPush(probe: string, ping: PushPing): void {
    this.#run([{ text: SQL.recordPush, values: [probe, ping.at, ping.ok ? 1 : 0, ping.message] }]);
  }

  pushState(probe: string): PushState | null {
    const row = this.#rows<{ watching_since: number; at: number | null; ok: number | null; message: string | null }>(SQL.pushState, probe)[0];
    if (!row) return null;
    const last = row.at === null ? null : { at: row.at, ok: row.ok === 1, message: row.message };
    return { watchingSince: row.watching_since, last };
  }

  prune(now: number, retentionMs: number): { incidents: number; messages: number; uptime: number } {
    this.flushUptime();
    const cutoff = now - retentionMs;
    const [, , , incidents, messages, uptime] = this.#run(
      [
        { text: SQL.rememberLastIncidentId },
        { text: SQL.pruneSilences, values: [cutoff] },
        { text: SQL.pruneOncall, values: [cutoff] },
        { text: SQL.pruneIncidents, values: [cutoff] },
        { text: SQL.pruneMessages, values: [cutoff] },
        // Only hours that ended before the cutoff.
        { text: SQL.pruneUptime, values: [cutoff - HOUR_MS] },
      ],
      true,
    );
    return { incidents: incidents!.rowCount, messages: messages!.rowCount, uptime: uptime!.rowCount };
  }

  ping(now: number): void {
    this.#run([{ text: SQL.setMeta, values: ['heartbeat', String(now)] }]);
  }

  /** Bytes PostgreSQL uses for vigil's tables and their indexes. */
  sizeBytes(): number {
    return this.#rows<{ bytes: number }>(SQL.sizeBytes, PG_TABLES)[0]?.bytes ?? 0;
  }

  /** Flushes uptime and closes the connection. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flushUptime();
    } finally {
      this.#closed = true;
      call({ op: 'close', handle: this.#handle });
    }
  }
}

/** Incidents, subjects and timeline entries of one step (or one write-back), one statement each. */
function stepStatements(incidents: readonly Incident[], subjects: readonly SubjectState[], timeline: ReadonlyArray<{ incidentId: number; entry: TimelineEntry }>): Statement[] {
  // One row per key: a key named twice in one statement cannot be upserted; the last one wins, as in SQLite.
  const byId = new Map(incidents.map((i) => [i.id, incidentParams(i)]));
  const byKey = new Map(subjects.map((s) => [s.key, subjectParams(s)]));
  const entries = timeline.map(({ incidentId, entry }, n) => ({ incident_id: incidentId, n, at: entry.at, event: entry.event, detail: entry.detail, by: entry.by ?? null }));
  const statements: Statement[] = [];
  // Incidents first: timeline rows reference them.
  if (byId.size > 0) statements.push({ text: SQL.upsertIncidents, values: [JSON.stringify([...byId.values()])] });
  if (byKey.size > 0) statements.push({ text: SQL.upsertSubjects, values: [JSON.stringify([...byKey.values()])] });
  if (entries.length > 0) statements.push({ text: SQL.appendTimeline, values: [JSON.stringify(entries)] });
  return statements;
}

/** Incident rows with their timelines (rows ordered by incident, then seq). */
function withTimelines(incidents: Row[], timeline: Row[]): Incident[] {
  const of = new Map<number, TimelineEntry[]>();
  for (const row of timeline) {
    const id = row.incident_id as number;
    let entries = of.get(id);
    if (!entries) of.set(id, (entries = []));
    entries.push(timelineFromRow(row as unknown as TimelineRow));
  }
  return incidents.map((row) => incidentFromRow(row as unknown as IncidentRow, of.get(row.id as number) ?? []));
}
