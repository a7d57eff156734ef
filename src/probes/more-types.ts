// The push, host and pg_health probe types as the probe registry (index.ts) takes them.
import type { ResolvedProbe } from '../config/types.js';
import type { ProbeFn } from './contract.js';
import { hostProbe } from './host.js';
import type { ProbeType } from './contract.js';
import { pgHealthProbe } from './pg-health.js';
import { pushProbe } from './push.js';

export const moreProbeTypes = {
  push: { run: pushProbe as ProbeFn<ResolvedProbe> },
  host: { run: hostProbe as ProbeFn<ResolvedProbe> },
  pg_health: { run: pgHealthProbe as ProbeFn<ResolvedProbe> },
} satisfies Record<'push' | 'host' | 'pg_health', ProbeType>;
