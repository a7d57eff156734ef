// GET /api/incidents/:id/review: the post-incident review of a stored incident, as text/markdown.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/types.js';
import { impactUsersOf, renderReview } from '../../incidents/review.js';
import type { Incident } from '../../types.js';
import type { AppDeps } from '../deps.js';
import { readIncident } from '../memory-reads.js';
import { ApiError } from '../serialize.js';

/** The review as the API and `vigil review` print it: rendered on demand from the stored incident. */
export function reviewOf(incident: Incident, config: Pick<Config, 'probes'>, now: number): string {
  const services = new Map(config.probes.map((p) => [p.id, p.service] as const));
  return renderReview({
    incident,
    impactUsers: impactUsersOf(incident),
    // A secondary finding (`prod-ps:redis`) is about the service after the colon when it is not a probe id.
    serviceOf: (key) => services.get(key) ?? services.get(key.split(':')[0] ?? key),
    now,
  });
}

export function reviewRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config' | 'store' | 'engineState'>, now: () => number): void {
  app.get('/api/incidents/:id/review', async (request, reply) => {
    const raw = (request.params as { id?: string }).id ?? '';
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) {
      throw new ApiError(400, 'bad_request', 'params.id: expected an incident id: a positive whole number');
    }
    const incident = readIncident(deps, Number(raw));
    if (!incident) throw new ApiError(404, 'not_found', `no incident ${raw}`);
    return reply.type('text/markdown; charset=utf-8').send(reviewOf(incident, deps.config, now()));
  });
}
