// The words vigil uses about an incident event (docs/messages.md): the #ops line, the log fields and level.
import { formatDuration, formatMinutes } from '../duration.js';
import type { IncidentEvent, IncidentEventType, Severity } from '../types.js';

/** Events that page a human; the rest are recorded on the timeline and logged, never announced. */
export const PAGING_EVENTS: ReadonlySet<IncidentEventType> = new Set<IncidentEventType>([
  'opened',
  'reopened',
  'escalated',
  'reminder',
  'acknowledged',
  'resolved',
  'handed_over',
  'review',
]);

export function pages(event: Pick<IncidentEvent, 'type'>): boolean {
  return PAGING_EVENTS.has(event.type);
}

// C0/C1 controls, DEL, and Unicode line/paragraph separators: any of them would split or garble a
// one-line message, and summaries and names can come from probe output or an API caller.
const CONTROL_OR_SPACE_RUN = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Makes untrusted text safe for a one-line message: every control or whitespace run becomes one space. */
export function oneLine(text: string): string {
  return text.replace(CONTROL_OR_SPACE_RUN, ' ').trim();
}

export { formatDuration } from '../duration.js';

function subject(event: IncidentEvent): string {
  return `${event.severity} - ${oneLine(event.summary)} on ${oneLine(event.environment)}.`;
}

/** " (via Better Stack)" when the person acted outside vigil. */
function via(event: IncidentEvent): string {
  return event.via === undefined ? '' : ` (via ${oneLine(event.via)})`;
}

function escalation(event: IncidentEvent): string {
  return event.escalatedTo === undefined ? '' : ` Escalated in Better Stack to ${oneLine(event.escalatedTo)}.`;
}

/** " #9 (DB connections high) joined as a symptom.": the incidents a root cause took in, named in its opening. */
function joinedText(event: IncidentEvent): string {
  const joined = event.joined ?? [];
  if (joined.length === 0) return '';
  const names = joined.map((j) => `#${j.id} (${oneLine(j.summary)})`);
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
  return ` ${list} joined as ${joined.length === 1 ? 'a symptom' : 'symptoms'}.`;
}

/** The exact #ops wording for an event that pages, or null for one that does not. */
export function opsLine(event: IncidentEvent): string | null {
  switch (event.type) {
    case 'opened':
      return `[INCIDENT] ${subject(event)} Investigating.${joinedText(event)}`;
    case 'reopened':
      return `[INCIDENT] ${subject(event)} Reopened.${joinedText(event)}`;
    case 'escalated':
      return event.previousSeverity
        ? `[INCIDENT] ${subject(event)} Escalated from ${event.previousSeverity}.`
        : `[INCIDENT] ${subject(event)} Escalated.`;
    case 'reminder':
      return `[REMINDER] ${subject(event)} Unacknowledged for ${formatMinutes(event.durationMs)}.${escalation(event)}`;
    case 'acknowledged':
      return `[ACK] ${subject(event)} Acknowledged by ${oneLine(event.by ?? '') || 'someone'}${via(event)}.`;
    case 'resolved':
      return event.joinedInto === undefined
        ? `[RESOLVED] ${subject(event)} Resolved after ${formatDuration(event.durationMs)}${event.via === undefined ? '' : ` by ${oneLine(event.by ?? '') || 'someone'}${via(event)}`}.`
        : `[RESOLVED] ${subject(event)} Joined #${event.joinedInto} as a symptom of its root cause.`;
    case 'handed_over':
      return `[INCIDENT] ${subject(event)} Handed over from ${oneLine(event.previousSummary ?? '') || 'its previous root'}.`;
    case 'review':
      // The engine's detail: "Post-incident review draft: <link>".
      return `[REVIEW] ${subject(event)} ${oneLine(event.detail)}`;
    case 'symptom':
    case 'deescalated':
    case 'note':
    case 'maintenance':
      return null;
  }
}

/** The structured fields every incident event's log line carries (docs/messages.md). */
export interface EventLogFields {
  incident_id: number;
  event: IncidentEventType;
  severity: Severity;
  environment: string;
  service: string;
  probe: string;
  summary: string;
}

export function logFields(event: IncidentEvent): EventLogFields {
  return {
    incident_id: event.incidentId,
    event: event.type,
    severity: event.severity,
    environment: event.environment,
    service: event.service,
    probe: event.probe,
    summary: oneLine(event.summary),
  };
}

export type EventLogLevel = 'error' | 'warn' | 'info';

// Good news and human actions are not alarms: a log-based alert on level error must not fire
// because someone acknowledged or resolved an S1, nor on the review draft that follows a resolution.
const CALM_EVENTS: ReadonlySet<IncidentEventType> = new Set<IncidentEventType>(['acknowledged', 'resolved', 'note', 'review']);

/** error for S1/S2, warn for S3, info for S4 and for acknowledgements, notes, resolutions and reviews. */
export function logLevel(event: Pick<IncidentEvent, 'type' | 'severity'>): EventLogLevel {
  if (CALM_EVENTS.has(event.type)) return 'info';
  if (event.severity === 'S1' || event.severity === 'S2') return 'error';
  if (event.severity === 'S3') return 'warn';
  return 'info';
}

/**
 * The one structured line an event deserves in the log whether or not it pages: the #ops wording
 * when there is one, else the event's own detail.
 */
export function eventLogLine(event: IncidentEvent): { level: EventLogLevel; fields: EventLogFields; msg: string } {
  const msg = opsLine(event) ?? `[${event.type.toUpperCase()}] ${subject(event)} ${oneLine(event.detail)}`.trim();
  return { level: logLevel(event), fields: logFields(event), msg };
}
