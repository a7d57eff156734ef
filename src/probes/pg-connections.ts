// The `pg_connections` probe: client backends against the slots ordinary clients may use, by state and by who holds them.
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { Finding } from '../types.js';
import type { ProbeFn } from './contract.js';
import { oneWorse, runDbProbe, setGauges, type DbProbe } from './pg-common.js';

export type PgConnectionsProbe = ResolvedProbe & { spec: { type: 'pg_connections'; database: string; warn: number; critical: number } };

// reserved_connections exists from PostgreSQL 16; current_setting(…, true) gives NULL before that.
const SQL = `
WITH clients AS (
  SELECT coalesce(state, 'unknown') AS state, coalesce(usename, '?') AS usename, coalesce(application_name, '') AS application_name
  FROM pg_stat_activity WHERE backend_type = 'client backend'
)
SELECT
  current_setting('max_connections')::int AS max_connections,
  current_setting('superuser_reserved_connections')::int AS superuser_reserved,
  coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved,
  (SELECT count(*) FROM clients)::int AS connections,
  (SELECT coalesce(json_agg(s ORDER BY s.n DESC, s.state), '[]') FROM (SELECT state, count(*)::int AS n FROM clients GROUP BY state) s) AS by_state,
  (SELECT coalesce(json_agg(t ORDER BY t.n DESC, t.application_name, t.usename), '[]') FROM (
     SELECT application_name, usename, count(*)::int AS n FROM clients GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 5) t) AS top`;

interface Row {
  max_connections: number;
  superuser_reserved: number;
  reserved: number;
  connections: number;
  by_state: Array<{ state: string; n: number }>;
  top: Array<{ application_name: string; usename: string; n: number }>;
}

export const pgConnectionsProbe: ProbeFn<PgConnectionsProbe> = (probe, ctx) =>
  runDbProbe(probe as DbProbe, ctx, async (run) => {
    const { rows } = await ctx.transports.pg.query<Row>(run.database, SQL, [], run.call);
    const row = rows[0]!;
    const usable = Math.max(1, row.max_connections - row.superuser_reserved - row.reserved);
    const ratio = row.connections / usable;
    const pct = `${Math.round(ratio * 100)}%`;
    const { warn, critical } = probe.spec;
    const values = { connections: row.connections, max_connections: usable, ratio };
    const evidence = connectionsEvidence(row, usable);
    const used = `${row.connections} of ${usable} usable connections in use (${pct})`;
    if (ratio >= critical) {
      return [run.finding({ ok: false, severity: oneWorse(probe.severity), message: `${used}: at or past critical ${Math.round(critical * 100)}%`, evidence, values })];
    }
    if (ratio >= warn) {
      return [run.finding({ ok: false, severity: probe.severity, message: `${used}: at or past warn ${Math.round(warn * 100)}%`, evidence, values })];
    }
    return [run.finding({ ok: true, message: used, evidence, values })];
  });

function connectionsEvidence(row: Row, usable: number): string {
  const reserved = [`${row.superuser_reserved} reserved for superusers`, ...(row.reserved > 0 ? [`${row.reserved} for pg_use_reserved_connections`] : [])];
  const lines = [
    `${row.connections} client connections of ${usable} usable (max_connections ${row.max_connections}, ${reserved.join(', ')})`,
    `by state: ${row.by_state.map((s) => `${s.state} ${s.n}`).join(', ') || 'none'}`,
    'top clients (connections · application · user):',
    ...row.top.map((t) => `  ${String(t.n).padStart(4)} · ${t.application_name || '(no application_name)'} · ${t.usename}`),
  ];
  return lines.join('\n');
}

export function observePgConnections(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  setGauges(metrics, probe as DbProbe, findings, [
    ['pgConnections', 'connections'],
    ['pgMaxConnections', 'max_connections'],
  ]);
}
