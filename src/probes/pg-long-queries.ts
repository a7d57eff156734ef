// The `pg_long_queries` probe: the runbook's "queries running longer than 1 minute", with redacted query text as evidence.
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import { APPLICATION_NAME } from '../transport/pg.js';
import type { Finding } from '../types.js';
import type { ProbeFn } from './contract.js';
import { formatAge, formatLimit, runDbProbe, setGauges, type DbProbe } from './pg-common.js';
import { redactSql } from './sql-redact.js';

export type PgLongQueriesProbe = ResolvedProbe & { spec: { type: 'pg_long_queries'; database: string; older_than: number } };

/** Queries listed in the evidence; the count covers them all. */
export const EVIDENCE_QUERIES = 20;

// The runbook: state != 'idle' AND query_start < now() - older_than, for client backends only and
// never vigil's own sessions (this one, or its pool's, which carry vigil's application_name and role).
const SQL = `
WITH candidates AS (
  SELECT pid, coalesce(usename, '?') AS usename, coalesce(application_name, '') AS application_name, state,
         wait_event_type, wait_event, query,
         extract(epoch FROM now() - query_start)::float8 AS seconds,
         extract(epoch FROM now() - xact_start)::float8 AS xact_seconds
  FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND state IS NOT NULL AND state <> 'idle' AND query_start IS NOT NULL
    AND pid <> pg_backend_pid()
    AND NOT (application_name = $2 AND usename = current_user)
)
SELECT current_setting('standard_conforming_strings') = 'on' AS scs,
  (SELECT count(*) FROM candidates WHERE seconds > $1)::int AS count,
  (SELECT coalesce(max(seconds), 0) FROM candidates)::float8 AS longest_seconds,
  (SELECT coalesce(json_agg(c ORDER BY c.seconds DESC), '[]') FROM (
     SELECT * FROM candidates WHERE seconds > $1 ORDER BY seconds DESC LIMIT ${EVIDENCE_QUERIES}) c) AS queries`;

interface LongQuery {
  pid: number;
  usename: string;
  application_name: string;
  state: string;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string | null;
  seconds: number;
  xact_seconds: number | null;
}

interface Row {
  scs: boolean;
  count: number;
  longest_seconds: number;
  queries: LongQuery[];
}

export const pgLongQueriesProbe: ProbeFn<PgLongQueriesProbe> = (probe, ctx) =>
  runDbProbe(probe as DbProbe, ctx, async (run) => {
    const limit = formatLimit(probe.spec.older_than);
    const { rows } = await ctx.transports.pg.query<Row>(run.database, SQL, [probe.spec.older_than / 1000, APPLICATION_NAME], run.call);
    const row = rows[0]!;
    const values = { count: row.count, longest_seconds: row.longest_seconds };
    if (row.count === 0) {
      const longest = row.longest_seconds > 0 ? ` (longest running ${formatAge(row.longest_seconds)})` : '';
      return [run.finding({ ok: true, message: `no query running longer than ${limit}${longest}`, values })];
    }
    const first = row.queries[0]!;
    const idleTx = row.queries.filter((q) => q.state.startsWith('idle in transaction')).length;
    const plural = row.count === 1 ? 'query' : 'queries';
    const idleNote = idleTx > 0 ? `, ${idleTx} idle in transaction` : '';
    const message = `${row.count} ${plural} running longer than ${limit} (longest ${formatAge(first.seconds)}, pid ${first.pid}${idleNote})`;
    const lines = row.queries.flatMap((q) => describeQuery(q, row.scs));
    if (row.count > row.queries.length) lines.push(`… and ${row.count - row.queries.length} more`);
    return [run.finding({ ok: false, message, evidence: lines.join('\n'), values })];
  });

/** Two lines per query: who, how long, waiting on what; then its text with every literal redacted. */
function describeQuery(q: LongQuery, standardConformingStrings: boolean): string[] {
  const idleInTx = q.state.startsWith('idle in transaction');
  const age = idleInTx
    ? `${q.state} for ${formatAge(q.seconds)} (transaction open ${formatAge(q.xact_seconds ?? q.seconds)})`
    : `${q.state} ${formatAge(q.seconds)}`;
  const wait = q.wait_event ? `waiting ${q.wait_event_type ?? '?'}:${q.wait_event}` : 'not waiting';
  const head = `pid ${q.pid} · ${age} · user ${q.usename} · app ${q.application_name || '(none)'} · ${wait}`;
  const text = q.query ? redactSql(q.query, { maxLength: 300, standardConformingStrings }) : '(query text not visible to vigil: grant pg_monitor)';
  return [head, `  ${idleInTx ? 'last query: ' : ''}${text}`];
}

export function observePgLongQueries(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  setGauges(metrics, probe as DbProbe, findings, [
    ['pgLongQueries', 'count'],
    ['pgLongestQuery', 'longest_seconds'],
  ]);
}
