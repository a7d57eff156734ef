// GET /metrics: the Prometheus registry, with the gauges that mirror state refreshed at scrape time.
import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../types.js';
import type { AppDeps } from '../deps.js';

/**
 * Sets vigil_outbox_pending and vigil_incidents_open from the store and the engine. The open-incident
 * gauge is reset and then every configured environment × severity written (0 where nothing is open),
 * so a closed combination reads 0 instead of lingering at its last value, and the series set stays
 * bounded by the config rather than by history.
 */
export function refreshStateGauges(deps: Pick<AppDeps, 'config' | 'store' | 'metrics' | 'engineState' | 'log'>): void {
  const { metrics } = deps;
  try {
    metrics.outboxPending.set(deps.store.pendingCount());
  } catch (err) {
    // A failing store must not take the whole scrape down: the other families still tell a story.
    deps.log.warn({ err }, 'could not read the outbox size for /metrics');
  }
  try {
    const open = new Map<string, number>();
    for (const incident of deps.engineState().incidents.values()) {
      if (incident.state === 'resolved') continue;
      const key = `${incident.environment}\u0000${incident.severity}`;
      open.set(key, (open.get(key) ?? 0) + 1);
    }
    metrics.incidentsOpen.reset();
    for (const environment of Object.keys(deps.config.environments)) {
      for (const severity of SEVERITIES) metrics.incidentsOpen.set({ environment, severity }, 0);
    }
    for (const [key, count] of open) {
      const [environment = '', severity = ''] = key.split('\u0000');
      metrics.incidentsOpen.set({ environment, severity }, count);
    }
  } catch (err) {
    deps.log.warn({ err }, 'could not count open incidents for /metrics');
  }
}

export function metricsRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config' | 'store' | 'metrics' | 'engineState' | 'log'>): void {
  app.get('/metrics', async (_request, reply) => {
    refreshStateGauges(deps);
    const text = await deps.metrics.registry.metrics();
    return reply.code(200).type(deps.metrics.registry.contentType).send(text);
  });
}
