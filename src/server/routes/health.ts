// GET /healthz (the scheduler and the store work) and GET /readyz (the first round of probes is done).
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';

type Health = ReturnType<AppDeps['health']>;

export function healthRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'health' | 'log'>): void {
  // A health callback that throws is itself a failure: answer 503, never 500, so orchestrators act on it.
  function readHealth(): Health | null {
    try {
      return deps.health();
    } catch (err) {
      deps.log.error({ err }, 'health check callback failed');
      return null;
    }
  }

  app.get('/healthz', async (_request, reply) => {
    const health = readHealth();
    const checks = { scheduler: health?.scheduler === true, store: health?.store === true };
    const failed = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    if (failed.length === 0) return reply.code(200).send({ status: 'ok', checks });
    return reply.code(503).send({
      status: 'failing',
      checks,
      failed,
      error: { code: 'unhealthy', message: `not working: ${failed.join(', ')}` },
    });
  });

  app.get('/readyz', async (_request, reply) => {
    const health = readHealth();
    if (health?.ready === true) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send({
      status: 'starting',
      error: { code: 'not_ready', message: 'the first round of probes has not finished yet' },
    });
  });
}
