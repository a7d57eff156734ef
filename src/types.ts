// The shapes that cross module boundaries: probe → findings → engine → events → outbox → sinks.
import type { Logger } from 'pino';

export const SEVERITIES = ['S1', 'S2', 'S3', 'S4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** S1 is the worst. Returns the worse (numerically lower) of two severities. */
export function worse(a: Severity, b: Severity): Severity {
  return a < b ? a : b;
}
/** Applies an environment's cap: nothing in the environment is worse than the cap. */
export function capSeverity(s: Severity, cap: Severity | undefined): Severity {
  return cap && s < cap ? cap : s;
}

/**
 * One observed fact from a probe run. `key` names the subject it is about and is unique across the
 * fleet: the probe's main finding uses the probe id, secondary ones `<probe id>:<suffix>`
 * (`backend-health:tls`, `prod-ps:redis`), host reachability `host:<name>`.
 */
export interface Finding {
  key: string;
  ok: boolean;
  /** Overrides the probe's severity for this finding (per-service, slow → S4, cert expiry). */
  severity?: Severity;
  /** Operator's words: what happened, never a stack trace. */
  message: string;
  /** Redacted, human-readable detail (response excerpt, container list, query list). */
  evidence?: string;
  /** Numbers for metrics and escalate rules, e.g. {latency_seconds: 0.2, count: 3}. */
  values?: Record<string, number>;
  /** The service this finding is about when it differs from the probe's (compose_ps). */
  service?: string;
  /** Stable code of the error behind a failure where one names its kind (VIGIL_ERR_SSH_NOT_PINNED …). */
  code?: string;
}

export type ProbeOutcome = 'success' | 'failure' | 'error' | 'timeout';

/** One heartbeat received on POST /api/push/{id}. */
export interface PushPing {
  at: number;
  ok: boolean;
  /** The sender's `msg`, already cleaned and bounded; untrusted text. */
  message: string | null;
}

export interface PushState {
  /** When vigil began expecting heartbeats for this probe: the clock of a probe never pinged. */
  watchingSince: number;
  last: PushPing | null;
}

export interface ProbeRun {
  probe: string;
  findings: Finding[];
  /** When the run started (ms since epoch) and how long it took. */
  startedAt: number;
  durationMs: number;
  outcome: ProbeOutcome;
}

export type IncidentState = 'open' | 'acknowledged' | 'resolved';

export type IncidentEventType =
  | 'opened' // a new incident: pages
  | 'reopened' // flapped back within the reopen window: pages like opened
  | 'escalated' // severity rose: pages
  | 'deescalated' // severity fell: recorded, not paged
  | 'symptom' // a dependent failure joined the incident: recorded, not paged
  | 'acknowledged'
  | 'reminder'
  | 'note'
  | 'resolved'
  | 'handed_over' // the root recovered, a still-failing symptom became the root: pages like opened
  | 'maintenance' // opened, reopened or released inside a maintenance window: recorded, not paged
  | 'review'; // an S1/S2 resolved: its post-incident review draft is ready (#ops)

export interface TimelineEntry {
  at: number;
  event: IncidentEventType;
  detail: string;
  by?: string;
}

export interface Incident {
  id: number;
  state: IncidentState;
  severity: Severity;
  environment: string;
  service: string;
  summary: string;
  /** Probe and finding key that opened the incident. */
  rootProbe: string;
  rootKey: string;
  /** Finding keys of dependent failures that joined it. */
  symptoms: string[];
  openedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  /** When someone must have acknowledged it (S1 30 min, S2 2 h), or null (S3/S4). */
  respondBy: number | null;
  lastReminderAt: number | null;
  /** Latest failure message of the root finding. */
  message: string;
  timeline: TimelineEntry[];
  evidence: Evidence[];
  /** When the root's first failing result of this stretch was seen (before the threshold opened it). */
  detectedAt?: number | null;
  /** The maintenance window holding this incident's pages; its events are recorded and logged, not routed. */
  maintenance?: string | null;
  /** Finding keys that were root before a hand-over, oldest first: the first is the first failing probe. */
  formerRoots?: string[];
  /**
   * The worst severity humans were paged at since it last (re)opened; null while only held (a
   * maintenance window). A rise back to it (a root flapping between two kinds of failure) is not paged again.
   */
  pagedSeverity?: Severity | null;
}

export interface Evidence {
  at: number;
  source: string;
  text: string;
}

/** What the engine emits; carries everything a message needs, so sinks never look anything up. */
export interface IncidentEvent {
  type: IncidentEventType;
  at: number;
  incidentId: number;
  severity: Severity;
  previousSeverity?: Severity;
  environment: string;
  service: string;
  probe: string;
  findingKey: string;
  summary: string;
  message: string;
  openedAt: number;
  /**
   * The current failing period so far (since the last opening or reopening), in ms; for a reminder,
   * how long the incident has waited for a human since it last paged.
   */
  durationMs: number;
  respondBy: number | null;
  evidence?: string;
  by?: string;
  detail: string;
  /** The incident is inside a maintenance window: record and log the event, page nobody. */
  held?: boolean;
  /** handed_over: the summary the incident had under its previous root. */
  previousSummary?: string;
  /** opened/reopened: open incidents of dependents that this root cause took in as symptoms. */
  joined?: Array<{ id: number; summary: string }>;
  /** resolved: the incident was taken in as a symptom by this incident of its root cause. */
  joinedInto?: number;
  /**
   * A few lines of triage results (compose ps, logs, database, users affected), added to the stored
   * first message of an incident when its triage finishes; absent when none ran or it did not finish.
   */
  triage?: string;
  /** acknowledged/resolved: where the person acted when not through vigil, e.g. "Better Stack". */
  via?: string;
  /** reminder: the first one, at the respond-by time: escalates beyond the first responder. */
  respondByMissed?: boolean;
  /**
   * reminder: whom Better Stack is asked to escalate to ("policy 12345", "the whole team"). Set by
   * the router from the config, never by the engine, which knows nothing of Better Stack.
   */
  escalatedTo?: string;
}

/** Per finding key: the counters that decide when an incident opens or resolves. */
export interface SubjectState {
  key: string;
  probe: string;
  ok: boolean | null;
  /** Consecutive failures / passes, saturated at the thresholds so a steady state writes nothing. */
  failures: number;
  successes: number;
  severity: Severity | null;
  /** When `ok` last changed. */
  since: number;
  /** Open incident this subject belongs to (as root or symptom), if any. */
  incidentId: number | null;
}

export interface OutboundMessage {
  id: number;
  sink: string;
  channel: string;
  createdAt: number;
  incidentId: number | null;
  event: IncidentEventType;
  body: unknown;
}

export type DeliveryResult =
  | { ok: true }
  | { ok: false; retryAfterMs?: number; permanent: boolean; error: string };

export interface Sink {
  name: string;
  deliver(msg: OutboundMessage, signal: AbortSignal): Promise<DeliveryResult>;
}
