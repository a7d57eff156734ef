// The triage report of `vigil check`: findings grouped environment → service, worst severity last.
import { plural } from '../plural.js';
import type { Severity } from '../types.js';

export interface CheckResult {
  probe: string;
  type: string;
  environment: string;
  service: string;
  key: string;
  ok: boolean;
  /** Severity the finding would have now (no thresholds); null when it passed. */
  severity: Severity | null;
  message: string;
  evidence: string | null;
  durationMs: number;
  skipped: boolean;
  /**
   * What a failure shares with others of the same cause: `host:<name>` for an SSH host, or
   * `database:<name>` for a database probe; null for a probe's own failure.
   */
  cause?: string | null;
  /**
   * What kind of host failure it is where that changes what to do: "host key not pinned" (fix the
   * config) apart from "possible interception" (a key other than the pinned one: stop and look).
   */
  problem?: string | null;
}

const PROBLEMS: Record<string, string> = {
  VIGIL_ERR_SSH_NOT_PINNED: 'host key not pinned',
  VIGIL_ERR_SSH_HOST_KEY_MISMATCH: 'possible interception',
};

/** The report's label for a finding's error code, or null for a failure that needs none. */
export function problemOf(code: string | undefined): string | null {
  return code === undefined ? null : (PROBLEMS[code] ?? null);
}

/** ` [host key not pinned]` after a row's name, or nothing. */
function tag(r: CheckResult): string {
  return r.problem ? ` [${r.problem}]` : '';
}

export interface CheckReport {
  config: string;
  checkedAt: string;
  results: CheckResult[];
  worst: Severity | null;
  exitCode: number;
}

/** 0 all pass · 1 worst failure S3/S4 · 2 worst failure S1/S2. */
export function exitCodeFor(worst: Severity | null): number {
  if (worst === null) return 0;
  return worst === 'S1' || worst === 'S2' ? 2 : 1;
}

export function worstOf(results: CheckResult[]): Severity | null {
  let worst: Severity | null = null;
  for (const r of results) if (!r.ok && !r.skipped && r.severity && (worst === null || r.severity < worst)) worst = r.severity;
  return worst;
}

/** Rank for ordering: passes first, then S4 … S1, so the worst ends up last where the eye lands. */
function rank(r: CheckResult): number {
  if (r.skipped) return -1;
  if (r.ok || !r.severity) return 0;
  return 5 - Number(r.severity.slice(1));
}

function groupWorst(results: CheckResult[]): number {
  return Math.max(...results.map(rank));
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function sortedGroups<T extends CheckResult>(m: Map<string, T[]>): Array<[string, T[]]> {
  return [...m.entries()].sort((a, b) => groupWorst(a[1]) - groupWorst(b[1]) || a[0].localeCompare(b[0]));
}

export interface FormatOptions {
  color: boolean;
}

const COLORS: Record<string, string> = { S1: '31;1', S2: '31', S3: '33', S4: '36', ok: '32', dim: '2' };

/** A failing row's label: its probe id, and the finding's key where that names something else. */
function label(r: CheckResult): string {
  return r.key === r.probe || r.key.startsWith(`${r.probe}:`) ? r.key : `${r.probe} (${r.key})`;
}

/**
 * Failures of one cause (one unreachable host, one database down with the same error) that more
 * than one probe reported: shown once, with the probes it takes down, instead of once per probe.
 */
function sharedCauses(failed: CheckResult[]): Map<string, CheckResult[]> {
  const byCause = groupBy(
    failed.filter((r) => r.cause),
    (r) => `${r.cause}\u0000${r.message}`,
  );
  for (const [k, members] of byCause) if (new Set(members.map((m) => m.probe)).size < 2) byCause.delete(k);
  return byCause;
}

export function formatReport(report: CheckReport, opts: FormatOptions): string {
  const paint = (code: string, text: string) => (opts.color ? `\u001b[${COLORS[code] ?? '0'}m${text}\u001b[0m` : text);
  const checked = report.results.filter((r) => !r.skipped);
  const failed = checked.filter((r) => !r.ok);
  const causes = sharedCauses(failed);
  const grouped = new Set([...causes.values()].flat());
  const causeCount = causes.size + failed.filter((r) => !grouped.has(r)).length;
  const lines: string[] = [];
  lines.push(`vigil check · ${report.config} · ${report.checkedAt}`);
  lines.push(
    `${plural(checked.length, 'check')}: ${checked.length - failed.length} passed, ${failed.length} failed` +
      (causeCount < failed.length ? ` (${plural(causeCount, 'cause')})` : ''),
  );
  for (const [env, envResults] of sortedGroups(groupBy(report.results, (r) => r.environment))) {
    lines.push('', env);
    for (const [, members] of [...causes].filter(([, m]) => m[0]!.environment === env)) {
      const first = members[0]!;
      const worst = worstOf(members) ?? 'S4';
      const probes = [...new Set(members.map((m) => m.probe))];
      lines.push(`  ${paint(worst, worst)} ${first.cause}${tag(first)}  ${first.message}`);
      lines.push(`       ${paint('dim', `takes down ${plural(probes.length, 'probe')}: ${probes.join(', ')}`)}`);
    }
    const own = envResults.filter((r) => !grouped.has(r));
    for (const [service, results] of sortedGroups(groupBy(own, (r) => r.service))) {
      lines.push(`  ${service}`);
      const ordered = [...results].sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key));
      for (const r of ordered) {
        if (r.skipped) {
          lines.push(`    ${paint('dim', `- ${r.key}  skipped: ${r.message}`)}`);
        } else if (r.ok) {
          lines.push(`    ${paint('ok', 'ok')} ${r.key}  ${r.message}`);
        } else {
          const sev = r.severity ?? 'S4';
          lines.push(`    ${paint(sev, sev)} ${label(r)}${tag(r)}  ${r.message}`);
          if (r.evidence) for (const e of r.evidence.split('\n').slice(0, 12)) lines.push(`         ${paint('dim', e)}`);
        }
      }
    }
  }
  lines.push('');
  if (report.worst === null) {
    lines.push(paint('ok', 'All checks passed.'));
  } else {
    const worst = failed.filter((r) => r.severity === report.worst);
    const first = worst[0]!;
    const what = first.cause && grouped.has(first) ? first.cause : label(first);
    const more = worst.length > 1 ? ` (and ${worst.length - 1} more at ${report.worst})` : '';
    lines.push(`Worst: ${paint(report.worst, report.worst)} ${what}${tag(first)} on ${first.environment}/${first.service}: ${first.message}${more}`);
  }
  return `${lines.join('\n')}\n`;
}

export function reportJson(report: CheckReport): unknown {
  return {
    config: report.config,
    checked_at: report.checkedAt,
    worst: report.worst,
    exit_code: report.exitCode,
    results: report.results.map((r) => ({
      probe: r.probe,
      type: r.type,
      environment: r.environment,
      service: r.service,
      key: r.key,
      ok: r.ok,
      skipped: r.skipped,
      severity: r.severity,
      message: r.message,
      evidence: r.evidence,
      cause: r.cause ?? null,
      problem: r.problem ?? null,
      duration_ms: Math.round(r.durationMs),
    })),
  };
}
