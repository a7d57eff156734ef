// The last days of uptime per environment/service: the store's hourly probe rows summed per UTC day.
import type { UptimeRow } from '../../store/store.js';
import { dayLabel, formatPercent } from './format.js';

export const DAY_MS = 86_400_000;
export const UPTIME_DAYS = 7;

/** good ≥ 99.9 %, fair ≥ 99 %, poor ≥ 95 %, bad below; none without a single run that day. */
export type UptimeTone = 'good' | 'fair' | 'poor' | 'bad' | 'none';

export interface UptimeDay {
  start: number;
  label: string;
  iso: string;
}

export interface UptimeCell {
  ok: number;
  failed: number;
  /** ok / (ok + failed), or null when nothing ran. */
  ratio: number | null;
  text: string;
  tone: UptimeTone;
  /** Tooltip: the counts behind the number. */
  title: string;
}

export interface UptimeRowView {
  environment: string;
  service: string;
  cells: UptimeCell[];
  /** The whole period. */
  total: UptimeCell;
}

export interface UptimeView {
  days: UptimeDay[];
  rows: UptimeRowView[];
}

/** Midnight UTC of the first of the `days` days that end with today. */
export function uptimeSince(now: number, days = UPTIME_DAYS): number {
  return Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
}

function tone(ratio: number | null): UptimeTone {
  if (ratio === null) return 'none';
  if (ratio >= 0.999) return 'good';
  if (ratio >= 0.99) return 'fair';
  if (ratio >= 0.95) return 'poor';
  return 'bad';
}

function cell(ok: number, failed: number, when: string): UptimeCell {
  const runs = ok + failed;
  const ratio = runs === 0 ? null : ok / runs;
  return {
    ok,
    failed,
    ratio,
    text: ratio === null ? '–' : formatPercent(ratio),
    tone: tone(ratio),
    title: runs === 0 ? `${when}: no probe runs` : `${when}: ${ok} of ${runs} probe runs passed`,
  };
}

/**
 * One row per configured (environment, service), in the order given, with a cell per UTC day. A run
 * counts for its service whichever probe made it, so a service with two probes and one failing reads
 * about 50 %: the page says how often the service's checks passed, not a contractual SLA.
 */
export function dailyUptime(rows: readonly UptimeRow[], services: ReadonlyArray<{ environment: string; service: string }>, now: number, days = UPTIME_DAYS): UptimeView {
  const first = uptimeSince(now, days);
  const dayList: UptimeDay[] = [];
  for (let i = 0; i < days; i++) {
    const start = first + i * DAY_MS;
    dayList.push({ start, label: dayLabel(start), iso: new Date(start).toISOString().slice(0, 10) });
  }
  const counts = new Map<string, Array<{ ok: number; failed: number }>>();
  const keyOf = (environment: string, service: string) => `${environment}\u0000${service}`;
  for (const { environment, service } of services) {
    counts.set(keyOf(environment, service), dayList.map(() => ({ ok: 0, failed: 0 })));
  }
  for (const row of rows) {
    const day = Math.floor((row.hour - first) / DAY_MS);
    const perDay = counts.get(keyOf(row.environment, row.service));
    const slot = day >= 0 ? perDay?.[day] : undefined;
    if (!slot) continue; // before the period, or a service no longer in the config
    slot.ok += row.ok;
    slot.failed += row.failed;
  }
  return {
    days: dayList,
    rows: services.map(({ environment, service }) => {
      const perDay = counts.get(keyOf(environment, service)) ?? [];
      const cells = perDay.map((c, i) => cell(c.ok, c.failed, dayList[i]?.iso ?? ''));
      const ok = perDay.reduce((sum, c) => sum + c.ok, 0);
      const failed = perDay.reduce((sum, c) => sum + c.failed, 0);
      return { environment, service, cells, total: cell(ok, failed, `last ${days} days`) };
    }),
  };
}
