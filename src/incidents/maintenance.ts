// Maintenance windows (cron + duration, or start and end), scoped by environment and service: which are active at a time.
import { createTask, parse as cronParse } from 'node-cron';
import type { MaintenanceConfig } from '../config/schema.js';

const SECOND = 1_000;
const DAY = 86_400_000;
/** A cron window looks back at most this far for its latest start; longer durations are cut to it. */
export const MAX_CRON_WINDOW_MS = 31 * DAY;

export type MaintenanceWindow = MaintenanceConfig;

export interface ActiveWindow {
  /** Position in the config's `maintenance` list. */
  index: number;
  /** How the timeline and /api/status name it: the reason, else its scope and schedule. */
  label: string;
  environment: string | null;
  service: string | null;
  reason: string | null;
  startedAt: number;
  endsAt: number;
}

export function windowLabel(w: MaintenanceWindow): string {
  if (w.reason !== undefined && w.reason.trim() !== '') return w.reason.trim();
  const scope = `${w.environment ?? 'every environment'}${w.service === undefined ? '' : `/${w.service}`}`;
  const when = w.cron !== undefined ? `"${w.cron}" for ${Math.round((w.duration ?? 0) / 60_000)}m` : `${w.start} to ${w.end}`;
  return `${scope} ${when}`;
}

/**
 * The latest occurrence of `cron` (evaluated in UTC, like every time vigil shows) at or before
 * `now` and after `now − lookbackMs`, or null. node-cron judges each candidate day (its day rules —
 * L, W, #, ranges — are not redone here); the hour, minute and second lists come from its parser.
 */
export function latestCronStart(cron: string, now: number, lookbackMs: number): number | null {
  const task = createTask(cron, () => undefined, { timezone: 'UTC' });
  try {
    const fields = parseFields(cron);
    const earliest = now - Math.min(lookbackMs, MAX_CRON_WINDOW_MS);
    const hours = [...fields.hour].sort((a, b) => b - a);
    const minutes = [...fields.minute].sort((a, b) => b - a);
    const seconds = [...fields.second].sort((a, b) => b - a);
    const firstOfDay = (hours.at(-1)! * 3600 + minutes.at(-1)! * 60 + seconds.at(-1)!) * SECOND;
    for (let day = Math.floor(now / DAY) * DAY; day + DAY > earliest; day -= DAY) {
      // Any time of day the lists allow tells whether the day itself matches.
      if (!task.match(new Date(day + firstOfDay))) continue;
      for (const h of hours) {
        for (const m of minutes) {
          for (const s of seconds) {
            const at = day + (h * 3600 + m * 60 + s) * SECOND;
            if (at > now) continue;
            return at > earliest ? at : null;
          }
        }
      }
    }
    return null;
  } finally {
    void task.destroy();
  }
}

type TimeOfDay = { hour: number[]; minute: number[]; second: number[] };
const timeOfDayCache = new Map<string, TimeOfDay>();

/** The expression's expanded hour, minute and second lists (createTask has already validated it). */
function parseFields(cron: string): TimeOfDay {
  let fields = timeOfDayCache.get(cron);
  if (!fields) {
    const { hour, minute, second } = cronParse(cron);
    timeOfDayCache.set(cron, (fields = { hour, minute, second }));
  }
  return fields;
}

/** When `w` is active at `now`: [start, end) for a fixed window, the latest cron start + duration. */
export function activeSpan(w: MaintenanceWindow, now: number): { startedAt: number; endsAt: number } | null {
  if (w.start !== undefined && w.end !== undefined) {
    const startedAt = Date.parse(w.start);
    const endsAt = Date.parse(w.end);
    return startedAt <= now && now < endsAt ? { startedAt, endsAt } : null;
  }
  if (w.cron === undefined || w.duration === undefined || w.duration <= 0) return null;
  const startedAt = latestCronStart(w.cron, now, w.duration);
  return startedAt === null ? null : { startedAt, endsAt: startedAt + Math.min(w.duration, MAX_CRON_WINDOW_MS) };
}

/** Every window active at `now`, in config order. */
export function activeWindows(windows: readonly MaintenanceWindow[], now: number): ActiveWindow[] {
  const active: ActiveWindow[] = [];
  windows.forEach((w, index) => {
    const span = activeSpan(w, now);
    if (!span) return;
    active.push({
      index,
      label: windowLabel(w),
      environment: w.environment ?? null,
      service: w.service ?? null,
      reason: w.reason ?? null,
      ...span,
    });
  });
  return active;
}

/** The active window covering an incident's scope (unset environment or service means every one). */
export function windowCovering(
  windows: readonly MaintenanceWindow[],
  now: number,
  scope: { environment: string; service: string },
): ActiveWindow | undefined {
  return activeWindows(windows, now).find(
    (w) => (w.environment === null || w.environment === scope.environment) && (w.service === null || w.service === scope.service),
  );
}
