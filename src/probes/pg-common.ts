// What the four PostgreSQL probes share: the database lookup, tunnel failures read as the host's, findings under the probe's service.
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import { PgError, scrub, type PgCall } from '../transport/pg.js';
import { SshError } from '../transport/ssh.js';
import type { Finding } from '../types.js';
import type { ProbeContext } from './contract.js';

/** A resolved probe whose spec names a database. */
export type DbProbe = ResolvedProbe & { spec: { database: string } };

export interface DbRun {
  /** The database's name in the config. */
  database: string;
  /** Where it is, for messages ("10.0.0.2:5432/app"). */
  target: string;
  call: PgCall;
  /** A finding about this probe's subject, filed under the probe's service. */
  finding(f: Omit<Finding, 'key' | 'service'>): Finding;
}

/**
 * Runs a database probe's work and turns every failure into findings: a tunnel that cannot be opened
 * is the `host:<via>` finding (the host failed, not the database), a PgError is the probe's own
 * finding (`describe` may refine its severity), anything else is vigil's bug reported as data.
 */
export async function runDbProbe(
  probe: DbProbe,
  ctx: ProbeContext,
  work: (run: DbRun) => Promise<Finding[]>,
  describe: (err: PgError) => Partial<Pick<Finding, 'severity' | 'message'>> = () => ({}),
): Promise<Finding[]> {
  const name = probe.spec.database;
  const pg = ctx.transports.pg;
  const db = pg.database(name);
  // The probe's service as configured: its own `service:` when set, else its database's (config load
  // resolves that fallback), so a queue probe on the shared database is filed under its own service.
  const service = probe.service;
  const run: DbRun = {
    database: name,
    target: pg.target(name),
    call: { timeoutMs: probe.timeoutMs, signal: ctx.signal },
    finding: (f) => ({ ...f, key: probe.id, service }),
  };
  try {
    const findings = await work(run);
    // The tunnel carried this run, so its host is reachable: that lets a host incident resolve.
    if (db?.via) findings.push(ctx.transports.ssh.hostFinding(db.via, null));
    return findings;
  } catch (err) {
    if (err instanceof SshError && db?.via) return [ctx.transports.ssh.hostFinding(db.via, err)];
    if (err instanceof PgError) {
      const refined = describe(err);
      return [run.finding({ ok: false, message: refined.message ?? err.message, ...(refined.severity ? { severity: refined.severity } : {}) })];
    }
    const text = scrub(db ?? { url: null }, err instanceof Error ? err.message : String(err));
    ctx.log.warn({ database: name, error: text }, 'database probe failed unexpectedly');
    return [run.finding({ ok: false, message: `${probe.type} on ${name} failed unexpectedly: ${text}` })];
  }
}

/** The database label of a probe's vigil_pg_* gauges, and a way to clear them when a run measured nothing. */
export function setGauges(metrics: Metrics, probe: DbProbe, findings: Finding[], gauges: Array<[keyof Metrics & `pg${string}`, string]>): void {
  const database = probe.spec.database;
  const values = findings.find((f) => f.key === probe.id)?.values;
  for (const [gauge, valueKey] of gauges) {
    const value = values?.[valueKey];
    // A stale number would lie on a dashboard while the database cannot be measured.
    if (value === undefined) metrics[gauge].remove({ database });
    else metrics[gauge].set({ database }, value);
  }
}

/** "42s", "3m 05s", "2h 10m": ages of queries and transactions. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A duration from the config ("1m") as the operator wrote it back, for messages. */
export function formatLimit(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** One step worse than `s` (S3 → S2), never past S1: the critical threshold of warn/critical probes. */
export function oneWorse(s: Finding['severity'] & string): NonNullable<Finding['severity']> {
  return s === 'S1' ? 'S1' : (`S${Number(s.slice(1)) - 1}` as NonNullable<Finding['severity']>);
}

/** One step milder than `s` (S2 → S3), never past S4: the warn threshold of probes whose critical is their severity. */
export function oneMilder(s: Finding['severity'] & string): NonNullable<Finding['severity']> {
  return s === 'S4' ? 'S4' : (`S${Number(s.slice(1)) + 1}` as NonNullable<Finding['severity']>);
}
