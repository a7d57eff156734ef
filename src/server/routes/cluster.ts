// GET /api/cluster: which replica leads and every replica heard from, as the members table says.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../serialize.js';

export function clusterRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'cluster'>): void {
  app.get('/api/cluster', async () => {
    const status = deps.cluster?.() ?? null;
    if (!status) throw new ApiError(404, 'not_clustered', 'this vigil runs alone: no cluster is configured');
    return status;
  });
}
