// The `pg_ready` probe: a fresh connection and `SELECT 1`, saying which of refused, timeout, auth, full or starting up it met.
import type { ResolvedProbe } from '../config/types.js';
import type { ProbeFn } from './contract.js';
import { runDbProbe, type DbProbe } from './pg-common.js';

export type PgReadyProbe = ResolvedProbe & { spec: { type: 'pg_ready'; database: string } };

export const pgReadyProbe: ProbeFn<PgReadyProbe> = (probe, ctx) =>
  runDbProbe(
    probe as DbProbe,
    ctx,
    async (run) => {
      const started = ctx.now();
      await ctx.transports.pg.ping(run.database, run.call);
      const ms = Math.max(0, ctx.now() - started);
      return [run.finding({ ok: true, message: `accepting connections on ${run.target} (connect + SELECT 1 in ${Math.round(ms)}ms)`, values: { latency_seconds: ms / 1000 } })];
    },
    (err) => {
      // The server answered in both cases: what differs is who must act and how fast.
      if (err.kind === 'auth') return { severity: 'S2', message: `${err.message} — the database is up, but vigil cannot log in to watch it` };
      if (err.kind === 'role_limit') return { severity: 'S2', message: `${err.message} — the database is up, but vigil cannot log in to watch it` };
      if (err.kind === 'too_many_clients') return { severity: 'S1' };
      return {};
    },
  );
