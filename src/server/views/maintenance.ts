// The configured maintenance windows as notices: scope, when, whether active now (as the engine judges it), next start.
import { createTask, parse as parseCron } from 'node-cron';
import type { MaintenanceConfig } from '../../config/schema.js';
import { formatDuration } from '../../duration.js';
import { activeSpan } from '../../incidents/maintenance.js';
import { timeView, type TimeView } from './format.js';

export type MaintenanceStatus = 'active' | 'upcoming' | 'past' | 'scheduled';

export interface MaintenanceNotice {
  scope: string;
  /** "every Sunday…" is not attempted: the cron expression is shown as written, with its duration. */
  when: string;
  reason: string | null;
  status: MaintenanceStatus;
  /** The current window's end (active), or the next window's start (upcoming, scheduled). */
  until: TimeView | null;
  next: TimeView | null;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Far enough to find a weekly window's next start; a monthly one further out reads "none within 8 days". */
const LOOKAHEAD_MS = 8 * DAY_MS;

function scopeOf(m: MaintenanceConfig): string {
  if (m.environment && m.service) return `${m.environment} / ${m.service}`;
  if (m.environment) return `${m.environment} (every service)`;
  if (m.service) return `${m.service} in every environment`;
  return 'every environment and service';
}

/**
 * Fire times of a cron expression within [from, to], in order. node-cron decides each match, so
 * day-of-month/day-of-week rules read exactly as its scheduler reads them; its parsed fields only
 * narrow the candidates to the hours and minutes it can fire in, which keeps a week's look-ahead to a
 * handful of checks for an hourly or weekly window.
 */
function* fireTimes(expression: string, from: number, to: number): Generator<number> {
  const fields = parseCron(expression);
  const second = fields.second[0] ?? 0;
  const hours = [...fields.hour].sort((a, b) => a - b);
  const minutes = [...fields.minute].sort((a, b) => a - b);
  const task = createTask(expression, () => undefined, { timezone: 'UTC', name: 'vigil:maintenance-preview' });
  try {
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
      for (const hour of hours) {
        for (const minute of minutes) {
          const at = day + hour * HOUR_MS + minute * MINUTE_MS + second * 1000;
          if (at < from || at > to) continue;
          if (task.match(new Date(at))) yield at;
        }
      }
    }
  } finally {
    // A task that is never started holds no timer, but it sits in node-cron's registry until destroyed.
    void task.destroy();
  }
}

/** The next start after `now` within the look-ahead, or null. */
function nextCronStart(cron: string, now: number): number | null {
  for (const at of fireTimes(cron, now + 1, now + LOOKAHEAD_MS)) return at;
  return null;
}

function notice(m: MaintenanceConfig, now: number): Pick<MaintenanceNotice, 'status' | 'until' | 'next'> {
  // "Active" comes from the engine's own judgement, so the page never disagrees with what is held back.
  const span = activeSpan(m, now);
  if (m.cron !== undefined) {
    let nextStart: number | null = null;
    try {
      nextStart = nextCronStart(m.cron, now);
    } catch {
      // The loader validated the expression; should node-cron still refuse it, show it rather than fail the page.
    }
    const next = nextStart === null ? null : timeView(nextStart, now);
    return span ? { status: 'active', until: timeView(span.endsAt, now), next } : { status: 'scheduled', until: next, next };
  }
  if (span) return { status: 'active', until: timeView(span.endsAt, now), next: null };
  const start = Date.parse(m.start ?? '');
  if (now < start) return { status: 'upcoming', until: timeView(start, now), next: timeView(start, now) };
  return { status: 'past', until: null, next: null };
}

/** Active windows first, then upcoming and recurring ones; past one-off windows last. */
export function maintenanceNotices(windows: readonly MaintenanceConfig[], now: number): MaintenanceNotice[] {
  const order: Record<MaintenanceStatus, number> = { active: 0, upcoming: 1, scheduled: 2, past: 3 };
  const notices = windows.map((m): MaintenanceNotice => {
    const when =
      m.cron !== undefined && m.duration !== undefined
        ? `cron "${m.cron}" (UTC) for ${formatDuration(m.duration)}`
        : `${timeView(Date.parse(m.start ?? ''), now).utc} → ${timeView(Date.parse(m.end ?? ''), now).utc}`;
    return { scope: scopeOf(m), when, reason: m.reason ?? null, ...notice(m, now) };
  });
  return notices.sort((a, b) => order[a.status] - order[b.status]);
}
