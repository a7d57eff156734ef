// The Store interface: everything vigil keeps across restarts, behind one small seam.
import type { Silence } from '../incidents/silences.js';
import type { Incident, IncidentEvent, OutboundMessage, PushPing, PushState, SubjectState, TimelineEntry } from '../types.js';
import type { NewSilence, SilenceQuery } from './silences.js';

export type { NewSilence, SilenceQuery } from './silences.js';
import type { DeadMessage, OncallIncident, OncallState } from './oncall.js';

export type { DeadMessage, OncallIncident, OncallState } from './oncall.js';

/** What one engine step changed; written in a single transaction with the messages it caused. */
export interface StoreChange {
  subjects: SubjectState[];
  incidents: Incident[];
  /** Appended to the incidents' timelines (the incidents above already hold them in memory). */
  timeline: Array<{ incidentId: number; entry: TimelineEntry }>;
  /** New outbound messages, without id (the store assigns it). */
  messages: NewMessage[];
  events: IncidentEvent[];
}

/**
 * A message to store. With `holdUntil` it is not due before then: an incident's first message waits
 * for its triage summary (releaseMessages), and still goes out at that time if vigil dies meanwhile.
 */
export type NewMessage = Omit<OutboundMessage, 'id'> & { holdUntil?: number };

export interface UptimeSample {
  /** Probe id. */
  probe: string;
  environment: string;
  service: string;
  ok: boolean;
  at: number;
}

export interface UptimeRow {
  probe: string;
  environment: string;
  service: string;
  /** Start of the hour, ms since epoch. */
  hour: number;
  ok: number;
  failed: number;
}

/** An outbox message with its delivery history, so the outbox can back off. */
export interface PendingMessage extends OutboundMessage {
  /** Failed attempts so far. */
  attempts: number;
  /** Of those, the sends that got no answer: the peer may have the message already. */
  unanswered: number;
  lastError: string | null;
}

export interface IncidentQuery {
  state?: 'open' | 'resolved';
  limit?: number;
}

export interface Store {
  /**
   * Everything the engine needs to resume: subjects, incidents still open or resolved at or after
   * `resolvedSince` (so a flapping subject reopens the same incident), the next incident id.
   */
  loadEngineState(resolvedSince: number): { subjects: SubjectState[]; incidents: Incident[]; nextIncidentId: number };
  /** Returns the stored messages with their ids, in the order of `change.messages`. */
  apply(change: StoreChange): OutboundMessage[];

  getIncident(id: number): Incident | null;
  listIncidents(q: IncidentQuery): Incident[];

  /** Buffered in memory, written as hourly aggregates by flushUptime() (and by uptime(), prune(), close()). */
  recordRun(sample: UptimeSample): void;
  flushUptime(): void;
  /** Flushes, then returns every probe-hour that overlaps [sinceMs, now). */
  uptime(sinceMs: number): UptimeRow[];

  /** Outbox: messages due now, not yet delivered or given up, oldest first. */
  pendingMessages(limit: number): PendingMessage[];
  /**
   * Makes held messages due at `at` (never later than they already were), first rewriting the body of
   * each with `rewrite`. Only messages never attempted are touched, so a body already sent (or being
   * sent) is never changed. Returns how many were released.
   */
  releaseMessages(ids: readonly number[], at: number, rewrite?: (body: unknown) => unknown): number;
  markDelivered(id: number, at: number): void;
  /** `unanswered`: the attempt got no answer (timed out, cut off), so the peer may have the message. */
  markFailed(id: number, error: string, nextAttemptAt: number, unanswered?: boolean): void;
  markDead(id: number, error: string, at: number): void;
  pendingCount(): number;
  /** Messages given up at or after `since`, newest first (for /status). */
  deadMessages(since: number, limit: number): DeadMessage[];

  /** Better Stack on-call incidents: the one a create message made, if it got that far. */
  oncallCreatedBy(outboxId: number): OncallIncident | null;
  /** Every Better Stack incident made for this vigil incident, oldest first. */
  oncallIncidentsOf(incidentId: number): OncallIncident[];
  /** Those not yet known to be resolved: the ones to read back. */
  activeOncallIncidents(): OncallIncident[];
  recordOncallIncident(row: { remoteId: string; incidentId: number; outboxId: number; at: number }): void;
  /** Moves it forward to `state` (never back from resolved); false when nothing changed. */
  setOncallState(remoteId: string, state: Exclude<OncallState, 'open'>, at: number): boolean;

  /** Silences: added with an id, listed newest first, expired early by someone. */
  addSilence(silence: NewSilence): Silence;
  getSilence(id: number): Silence | null;
  listSilences(q?: SilenceQuery): Silence[];
  /** Ends a silence still in force at `at`; null when it is unknown or already over. */
  expireSilence(id: number, by: string, at: number): Silence | null;

  /** Push probes: begins expecting heartbeats for `probe` at `now`, unless it already did (or was pinged). */
  watchPush(probe: string, now: number): void;
  /** Keeps `ping` as the probe's last heartbeat. */
  recordPush(probe: string, ping: PushPing): void;
  /** The probe's last heartbeat and since when one is expected, or null when it was never watched. */
  pushState(probe: string): PushState | null;

  /** Deletes resolved incidents, delivered messages, uptime rows and silences over for longer than the retention. */
  prune(now: number, retentionMs: number): { incidents: number; messages: number; uptime: number };
  /** A cheap write that proves the store still writes (for /healthz and the heartbeat). */
  ping(now: number): void;
  sizeBytes(): number;
  close(): void;
}
