// How the status pages print times: UTC to the minute, the RFC 3339 instant, and an age relative to now.
import { formatDuration } from '../../duration.js';
import { rfc3339 } from '../serialize.js';

export interface TimeView {
  /** RFC 3339, for <time datetime> and machines. */
  iso: string;
  /** "2024-05-01 03:07 UTC": what a human reads. */
  utc: string;
  /** "2024-05-01 03:07:42 UTC": for timelines, where seconds tell the order of events. */
  utcSecond: string;
  /** "5m ago", "in 25m", "just now". */
  relative: string;
}

/** Under this, "just now" reads better than "12s ago" on a page that refreshes every 30 s. */
const JUST_NOW_MS = 60_000;

export function utcMinute(ms: number): string {
  return `${rfc3339(ms).slice(0, 16).replace('T', ' ')} UTC`;
}

export function utcSecond(ms: number): string {
  return `${rfc3339(ms).slice(0, 19).replace('T', ' ')} UTC`;
}

export function relative(ms: number, now: number): string {
  const delta = now - ms;
  if (Math.abs(delta) < JUST_NOW_MS) return 'just now';
  // Two units: "in 1h" when 1h 59m are left would mislead someone deciding whether to wait.
  const text = formatDuration(Math.abs(delta)).split(' ').slice(0, 2).join(' ');
  return delta > 0 ? `${text} ago` : `in ${text}`;
}

export function timeView(ms: number, now: number): TimeView {
  return { iso: rfc3339(ms), utc: utcMinute(ms), utcSecond: utcSecond(ms), relative: relative(ms, now) };
}

/** "Mon 29 Apr" for a UTC day starting at `dayStart`. */
export function dayLabel(dayStart: number): string {
  const d = new Date(dayStart);
  return `${WEEKDAY.format(d)} ${DAY_MONTH.format(d)}`;
}

// Made once: a formatter is costly to build, and toLocaleDateString builds one per call.
const WEEKDAY = new Intl.DateTimeFormat('en-GB', { weekday: 'short', timeZone: 'UTC' });
const DAY_MONTH = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

export function formatPercent(ratio: number): string {
  // 99.95 % must not read as 100 %: two decimals near the top, one below.
  if (ratio >= 1) return '100%';
  const pct = ratio * 100;
  return pct >= 99 ? `${(Math.floor(pct * 100) / 100).toFixed(2)}%` : `${(Math.floor(pct * 10) / 10).toFixed(1)}%`;
}
