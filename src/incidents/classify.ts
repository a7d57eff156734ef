// Severity of a finding (probe or per-finding severity → escalate rules → environment cap) and the response clock.
import type { ProbeMeta } from '../config/types.js';
import { capSeverity, worse, type Finding, type Severity } from '../types.js';

const MINUTE = 60_000;

/**
 * The runbook's "respond within": S1 30 min, S2 2 h. S3 ("next business day") and S4 ("next sprint")
 * have no clock yet — S3's business-day deadline is issue 6's and needs a calendar, so null for now.
 */
export function responsePeriodMs(severity: Severity): number | null {
  if (severity === 'S1') return 30 * MINUTE;
  if (severity === 'S2') return 120 * MINUTE;
  return null;
}

/** When an incident of this severity must be acknowledged if its response clock starts at `from`. */
export function respondByFor(severity: Severity, from: number): number | null {
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
