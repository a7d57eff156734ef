// Severity of a finding (probe or per-finding severity → escalate rules → environment cap) and the response clock.
import type { ProbeMeta } from '../config/types.js';
import { capSeverity, worse, type Finding, type Severity } from '../types.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The runbook's working day for S3's "next business day": Monday to Friday, starting 09:00 UTC.
 * UTC because every time vigil shows is UTC; a team elsewhere changes the hour here.
 */
export const BUSINESS_DAY = { startHourUtc: 9, weekdays: [1, 2, 3, 4, 5] as readonly number[] } as const;

/**
 * The start of the first business day after the calendar day (UTC) of `from`. Strictly the next
 * day, so an S3 seen at 08:55 on a Monday is due Tuesday morning, not five minutes later.
 */
export function nextBusinessDayStart(from: number): number {
  const midnight = Math.floor(from / DAY) * DAY;
  for (let day = midnight + DAY; ; day += DAY) {
    if (BUSINESS_DAY.weekdays.includes(new Date(day).getUTCDay())) return day + BUSINESS_DAY.startHourUtc * 60 * MINUTE;
  }
}

/**
 * The runbook's "respond within" as a fixed period: S1 30 min, S2 2 h. S3's deadline is a calendar
 * one (see respondByFor) and S4 ("next sprint") has none, so both answer null.
 */
export function responsePeriodMs(severity: Severity): number | null {
  if (severity === 'S1') return 30 * MINUTE;
  if (severity === 'S2') return 120 * MINUTE;
  return null;
}

/**
 * When an incident of this severity must have been acknowledged if its response clock starts at
 * `from`: S1 +30 min, S2 +2 h, S3 the next business day's start, S4 never (null). The same rule
 * spaces the reminders: the next one is due at respondByFor(severity, last reminder).
 */
export function respondByFor(severity: Severity, from: number): number | null {
  if (severity === 'S3') return nextBusinessDayStart(from);
  const period = responsePeriodMs(severity);
  return period === null ? null : from + period;
}

/**
 * The severity of a failing finding. Each escalate rule can only raise it (a `count` rule when the
 * finding's `values.count` reaches the count, an `after` rule once the incident has been open that
 * long); the environment's cap is applied last so staging never pages like production.
 */
export function classify(
  meta: ProbeMeta,
  finding: Finding,
  env: { severityCap: Severity | null } | undefined,
  openForMs: number,
): Severity {
  let severity = finding.severity ?? meta.severity;
  const count = finding.values?.count;
  for (const rule of meta.escalate) {
    const applies =
      (rule.count !== undefined && count !== undefined && count >= rule.count) ||
      (rule.after !== undefined && openForMs >= rule.after);
    if (applies) severity = worse(severity, rule.severity);
  }
  return capSeverity(severity, env?.severityCap ?? undefined);
}

/**
 * The severity `after` rules alone give an incident that has been open `openForMs`: what tick() can
 * know without a fresh finding. Never lower than `current`, which already holds base and count rules.
 */
export function escalateByTime(
  meta: ProbeMeta,
  current: Severity,
  env: { severityCap: Severity | null } | undefined,
  openForMs: number,
): Severity {
  let severity = current;
  for (const rule of meta.escalate) {
    if (rule.after !== undefined && openForMs >= rule.after) severity = worse(severity, rule.severity);
  }
  return capSeverity(severity, env?.severityCap ?? undefined);
}
