// Durations as the config writes them ("30s", "2m") and as the runbook's messages print them: "45s", "12m 30s", "2h 5m", "3d 4h".
import ms from 'ms';
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

/** A duration as the config writes it ("30s", "5m", "1.5h") in ms; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^\s*\d+(\.\d+)?\s*[a-z]+\s*$/i.test(text)) return undefined;
  const value = ms(text as ms.StringValue);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
