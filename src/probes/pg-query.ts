// The `pg_query` probe: one number from the operator's SQL (a queue depth, a lag) against warn/critical thresholds.
import type { ResolvedProbe } from '../config/types.js';
import type { Finding } from '../types.js';
import type { ProbeFn } from './contract.js';
import { oneWorse, runDbProbe, type DbProbe } from './pg-common.js';

export type PgQueryProbe = ResolvedProbe & {
  spec: { type: 'pg_query'; database: string; sql: string; warn?: number | undefined; critical?: number | undefined; direction: 'above' | 'below' };
};

export const pgQueryProbe: ProbeFn<PgQueryProbe> = (probe, ctx) =>
  runDbProbe(
    probe as DbProbe,
    ctx,
    async (run) => {
      const result = await ctx.transports.pg.query(run.database, probe.spec.sql, [], run.call);
      const read = readNumber(result.rows, result.fields.map((f) => f.name));
      if ('problem' in read) return [run.finding({ ok: false, message: `the query of ${probe.id} ${read.problem}; expected one row with one number` })];
      return [judge(probe, read.value, read.column, run.finding)];
    },
    (err) => ({ message: `the query of ${probe.id} failed: ${err.message}` }),
  );

/**
 * The single value the SQL must give. Values themselves never appear in a problem: only their type,
 * since an operator's SQL may select something that is not meant for a chat channel.
 */
export function readNumber(rows: Array<Record<string, unknown>>, columns: string[]): { value: number; column: string } | { problem: string } {
  if (columns.length !== 1) return { problem: `returned ${columns.length} columns (${columns.join(', ') || 'none'})` };
  if (rows.length === 0) return { problem: 'returned no row' };
  if (rows.length > 1) return { problem: `returned ${rows.length} rows` };
  const column = columns[0]!;
  const raw = rows[0]![column];
  if (raw === null || raw === undefined) return { problem: `returned NULL in "${column}"` };
  // int8 and numeric arrive as strings from pg, to keep their precision.
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) return { problem: `returned ${typeof raw === 'string' ? 'text' : typeof raw === 'boolean' ? 'a boolean' : raw instanceof Date ? 'a timestamp' : 'a non-number'} in "${column}", not a number` };
  return { value, column };
}

function judge(probe: PgQueryProbe, value: number, column: string, finding: (f: Omit<Finding, 'key' | 'service'>) => Finding): Finding {
  const { warn, critical, direction } = probe.spec;
  const crosses = (limit: number | undefined) => limit !== undefined && (direction === 'above' ? value >= limit : value <= limit);
  const sign = direction === 'above' ? '≥' : '≤';
  const values = { value };
  const shown = `${column} = ${value}`;
  if (crosses(critical)) {
    // With only a critical threshold there is no lower step: the probe's own severity is the one meant.
    const severity = warn === undefined ? probe.severity : oneWorse(probe.severity);
    return finding({ ok: false, severity, message: `${shown}: past critical (${sign} ${critical})`, values });
  }
  if (crosses(warn)) return finding({ ok: false, severity: probe.severity, message: `${shown}: past warn (${sign} ${warn})`, values });
  const limits = [warn !== undefined ? `warn ${sign} ${warn}` : null, critical !== undefined ? `critical ${sign} ${critical}` : null].filter(Boolean).join(', ');
  return finding({ ok: true, message: `${shown} (${limits})`, values });
}
