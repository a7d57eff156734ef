// Durations as the runbook's messages print them: "45s", "12m 30s", "2h 5m", "3d 4h".
import prettyMilliseconds from 'pretty-ms';

/** The two largest non-zero units, whole seconds (under a second: milliseconds). */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) ? Math.max(0, Math.trunc(ms)) : 0;
  return prettyMilliseconds(total, { secondsDecimalDigits: 0, unitCount: 2 });
}
