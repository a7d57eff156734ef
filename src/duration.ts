// Durations as the runbook's messages print them: "45s", "12m 30s", "2h 5m", "3d 4h".
import prettyMilliseconds from 'pretty-ms';

/** The two largest non-zero units, whole seconds (under a second: milliseconds). */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) ? Math.max(0, Math.trunc(ms)) : 0;
  return prettyMilliseconds(total, { secondsDecimalDigits: 0, unitCount: 2 });
}

/** A duration in whole minutes ("30m", "1h"): reminders fire on a tick a few seconds past the period. */
export function formatMinutes(ms: number): string {
  return formatDuration(Math.floor(Math.max(0, ms) / 60_000) * 60_000);
}
