// When a cron schedule last fired: maintenance windows, push heartbeats and backups all ask it.
import { createTask, parse as cronParse } from 'node-cron';

const SECOND = 1_000;
const DAY = 86_400_000;
/** A cron schedule looks back at most this far for its latest start; longer spans are cut to it. */
export const MAX_CRON_WINDOW_MS = 31 * DAY;

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
