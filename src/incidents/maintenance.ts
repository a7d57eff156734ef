// Maintenance windows (cron + duration, or start and end), scoped by environment and service: which are active at a time.
import type { MaintenanceConfig } from '../config/schema.js';
import { latestCronStart, MAX_CRON_WINDOW_MS } from '../cron.js';

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
