// Mapping between the store's SQLite rows and vigil's in-memory shapes (types.ts), both directions.
import type {
  Evidence,
  Incident,
  IncidentEventType,
  IncidentState,
  OutboundMessage,
  Severity,
  SubjectState,
  TimelineEntry,
} from '../types.js';
import type { PendingMessage } from './store.js';

export interface IncidentRow {
  id: number;
  state: string;
  severity: string;
  environment: string;
  service: string;
  summary: string;
  root_probe: string;
  root_key: string;
  symptoms: string;
  opened_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  respond_by: number | null;
  last_reminder_at: number | null;
  message: string;
  evidence: string;
  detected_at: number | null;
  maintenance: string | null;
  former_roots: string;
  paged_severity: string | null;
}

export interface TimelineRow {
  at: number;
  event: string;
  detail: string;
  by: string | null;
}

export interface SubjectRow {
  key: string;
  probe: string;
  ok: number | null;
  failures: number;
  successes: number;
  severity: string | null;
  since: number;
  incident_id: number | null;
}

export interface OutboxRow {
  id: number;
  sink: string;
  channel: string;
  created_at: number;
  incident_id: number | null;
  event: string;
  body: string;
  attempts: number;
  unanswered: number;
  last_error: string | null;
}

export type { PendingMessage } from './store.js';

/** What a write-back after a write failure puts in the store, in one transaction. */
export interface WriteBack {
  incidents: Incident[];
  subjects: SubjectState[];
  timeline: Array<{ incidentId: number; entry: TimelineEntry }>;
  /** Messages created while the store refused writes: inserted with their ids. */
  created: MessageState[];
  /** Stored messages whose delivery moved on meanwhile. */
  updated: MessageState[];
}

/** A whole outbox row, as the write-back after a write failure puts it back. */
export interface MessageState extends OutboxRow {
  next_attempt_at: number;
  state: 'pending' | 'delivered' | 'dead';
  delivered_at: number | null;
  dead_at: number | null;
}

/** Named parameters for the incident upsert (better-sqlite3 binds `@name` from object keys). */
export function incidentParams(i: Incident): IncidentRow {
  return {
    id: i.id,
    state: i.state,
    severity: i.severity,
    environment: i.environment,
    service: i.service,
    summary: i.summary,
    root_probe: i.rootProbe,
    root_key: i.rootKey,
    symptoms: JSON.stringify(i.symptoms),
    opened_at: i.openedAt,
    acknowledged_at: i.acknowledgedAt,
    acknowledged_by: i.acknowledgedBy,
    resolved_at: i.resolvedAt,
    respond_by: i.respondBy,
    last_reminder_at: i.lastReminderAt,
    message: i.message,
    evidence: JSON.stringify(i.evidence),
    detected_at: i.detectedAt ?? null,
    maintenance: i.maintenance ?? null,
    former_roots: JSON.stringify(i.formerRoots ?? []),
    paged_severity: i.pagedSeverity ?? null,
  };
}

export function incidentFromRow(r: IncidentRow, timeline: TimelineEntry[]): Incident {
  const incident: Incident = {
    id: r.id,
    state: r.state as IncidentState,
    severity: r.severity as Severity,
    environment: r.environment,
    service: r.service,
    summary: r.summary,
    rootProbe: r.root_probe,
    rootKey: r.root_key,
    symptoms: JSON.parse(r.symptoms) as string[],
    openedAt: r.opened_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    respondBy: r.respond_by,
    lastReminderAt: r.last_reminder_at,
    message: r.message,
    timeline,
    evidence: JSON.parse(r.evidence) as Evidence[],
  };
  // Absent rather than null or empty, so an incident written without them reads back the same.
  if (r.detected_at !== null) incident.detectedAt = r.detected_at;
  if (r.maintenance !== null) incident.maintenance = r.maintenance;
  const formerRoots = JSON.parse(r.former_roots) as string[];
  if (formerRoots.length > 0) incident.formerRoots = formerRoots;
  if (r.paged_severity !== null) incident.pagedSeverity = r.paged_severity as Severity;
  return incident;
}

export function timelineFromRow(r: TimelineRow): TimelineEntry {
  const entry: TimelineEntry = { at: r.at, event: r.event as IncidentEventType, detail: r.detail };
  // Absent rather than undefined, so an entry reads back exactly as it was written.
  if (r.by !== null) entry.by = r.by;
  return entry;
}

export function subjectParams(s: SubjectState): SubjectRow {
  return {
    key: s.key,
    probe: s.probe,
    // SQLite has no boolean, and better-sqlite3 refuses to bind one.
    ok: s.ok === null ? null : s.ok ? 1 : 0,
    failures: s.failures,
    successes: s.successes,
    severity: s.severity,
    since: s.since,
    incident_id: s.incidentId,
  };
}

export function subjectFromRow(r: SubjectRow): SubjectState {
  return {
    key: r.key,
    probe: r.probe,
    ok: r.ok === null ? null : r.ok === 1,
    failures: r.failures,
    successes: r.successes,
    severity: r.severity as Severity | null,
    since: r.since,
    incidentId: r.incident_id,
  };
}

export function messageFromRow(r: OutboxRow): PendingMessage {
  return {
    id: r.id,
    sink: r.sink,
    channel: r.channel,
    createdAt: r.created_at,
    incidentId: r.incident_id,
    event: r.event as IncidentEventType,
    body: JSON.parse(r.body) as unknown,
    attempts: r.attempts,
    unanswered: r.unanswered,
    lastError: r.last_error,
  };
}
