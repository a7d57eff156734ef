// The four PostgreSQL probe types as the probe registry (index.ts) takes them: run and metric observer.
import type { ResolvedProbe } from '../config/types.js';
import type { ProbeFn } from './contract.js';
import type { ProbeType } from './contract.js';
import { observePgConnections, pgConnectionsProbe } from './pg-connections.js';
import { observePgLongQueries, pgLongQueriesProbe } from './pg-long-queries.js';
import { pgQueryProbe } from './pg-query.js';
import { pgReadyProbe } from './pg-ready.js';

export const pgProbeTypes = {
  pg_ready: { run: pgReadyProbe as ProbeFn<ResolvedProbe> },
  pg_connections: { run: pgConnectionsProbe as ProbeFn<ResolvedProbe>, observe: observePgConnections },
  pg_long_queries: { run: pgLongQueriesProbe as ProbeFn<ResolvedProbe>, observe: observePgLongQueries },
  pg_query: { run: pgQueryProbe as ProbeFn<ResolvedProbe> },
} satisfies Record<'pg_ready' | 'pg_connections' | 'pg_long_queries' | 'pg_query', ProbeType>;
