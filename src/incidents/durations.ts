// How long an incident lasted, read from its timeline: the one place every duration vigil shows comes from.
import { formatDuration } from '../duration.js';
import type { Incident, IncidentEventType } from '../types.js';

/** A stretch of time the incident was open (failing), from an opening or reopening to its resolution. */
export interface FailingPeriod {
  start: number;
  /** null while the incident is still open. */
  end: number | null;
  /** When it paged humans in this period (after a maintenance hold, its release); null if it never did. */
  pagedAt: number | null;
  /** Every acknowledgement in this period, in order: a reopening needs its own. */
  acks: Array<{ at: number; by: string | null }>;
}

type DurationInput = Pick<Incident, 'openedAt' | 'resolvedAt' | 'timeline'> & Partial<Pick<Incident, 'acknowledgedAt' | 'acknowledgedBy'>>;

/** Entries that start a failing period when the incident is not already in one. */
const STARTS: ReadonlySet<IncidentEventType> = new Set<IncidentEventType>(['opened', 'reopened', 'maintenance']);

/**
 * The incident's failing periods, oldest first: it opens (the first period starts at openedAt), a
 * resolution ends a period, a reopening starts the next. Entries inside a period (a maintenance
 * window's end paging it, a hand-over, escalations) do not split it.
 */
export function failingPeriods(incident: DurationInput): FailingPeriod[] {
  const periods: FailingPeriod[] = [];
  let current: FailingPeriod | null = null;
  for (const entry of incident.timeline) {
    if (current === null) {
      if (!STARTS.has(entry.event)) continue;
      current = { start: periods.length === 0 ? Math.min(incident.openedAt, entry.at) : entry.at, end: null, pagedAt: null, acks: [] };
      periods.push(current);
    }
    if (current.pagedAt === null && (entry.event === 'opened' || entry.event === 'reopened')) current.pagedAt = entry.at;
    if (entry.event === 'acknowledged') current.acks.push({ at: entry.at, by: entry.by ?? null });
    if (entry.event === 'resolved') {
      current.end = entry.at;
      current = null;
    }
  }
  // A resolved incident whose timeline lacks the resolution (written by hand, or cut short) ended then.
  const last = periods[periods.length - 1];
  if (last && last.end === null && incident.resolvedAt !== null) last.end = Math.max(last.start, incident.resolvedAt);
  // An incident whose timeline says nothing of its openings is one period.
  if (periods.length === 0) {
    const acks = incident.acknowledgedAt == null ? [] : [{ at: incident.acknowledgedAt, by: incident.acknowledgedBy ?? null }];
    periods.push({ start: incident.openedAt, end: incident.resolvedAt, pagedAt: incident.openedAt, acks });
  }
  return periods;
}

export interface Outage {
  /** The last (current) failing period: what "Resolved after" and "open for" say. */
  currentMs: number;
  /** When that period started: the last opening or reopening. */
  since: number;
  /** Every failing period added up; time between a resolution and a reopening is not downtime. */
  totalMs: number;
  /** How many failing periods there were (1 + reopenings). */
  periods: number;
}

/** The incident's durations as of `now` (only read while it is open). */
export function outage(incident: DurationInput, now: number): Outage {
  const periods = failingPeriods(incident);
  const length = (p: FailingPeriod) => Math.max(0, (p.end ?? Math.max(now, p.start)) - p.start);
  const last = periods[periods.length - 1]!;
  return { currentMs: length(last), since: last.start, totalMs: periods.reduce((sum, p) => sum + length(p), 0), periods: periods.length };
}

/** The total downtime in words: "1m 2s", or "1m 2s over 2 failing periods" once it reopened. */
export function downtimeText(o: Outage): string {
  return `${formatDuration(o.totalMs)}${o.periods > 1 ? ` over ${o.periods} failing periods` : ''}`;
}

/** How long it has been (or was) failing, as lists show it: "32s", or "32s (1m 2s over 2 failing periods)". */
export function outageText(o: Outage): string {
  return `${formatDuration(o.currentMs)}${o.periods > 1 ? ` (${downtimeText(o)})` : ''}`;
}
