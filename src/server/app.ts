// buildApp(deps): the fastify app behind /healthz, /readyz, /metrics and /api, returned without listening.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Command, CommandResult, EngineState } from '../incidents/state.js';
import { REDACT_PATHS } from '../log.js';
import type { Metrics } from '../metrics.js';
import { SilenceBook } from '../silence-book.js';
import { storeLabel } from '../store/configured.js';
import { StoreUnavailableError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { serverTakingTurns } from './admission.js';
import { actRoutes } from './routes/act.js';
import { clusterRoutes } from './routes/cluster.js';
import { healthRoutes } from './routes/health.js';
import { incidentRoutes } from './routes/incidents.js';
import { metricsRoutes } from './routes/metrics.js';
import { pushRoutes } from './routes/push.js';
import { reviewRoutes } from './routes/review.js';
import { silenceRoutes } from './routes/silences.js';
import { statusRoutes } from './routes/status.js';
import { sendPage, statusPageRoutes } from './routes/status-page.js';
import { REFRESH_SECONDS } from './views/model.js';
import { timeView } from './views/format.js';
import { BODY_LIMIT_BYTES, type AppDeps } from './deps.js';
import { ApiError, scrubSecrets, secretsOf, sendError } from './serialize.js';

export type { AppDeps } from './deps.js';

export { BODY_LIMIT_BYTES } from './deps.js';

const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** What a 503 for an unavailable store asks a client to wait: PostgreSQL restarts take seconds. */
const RETRY_AFTER_SECONDS = 5;

export function buildApp(deps: AppDeps): FastifyInstance {
  const now = deps.now ?? Date.now;
  const silences = deps.silences ?? new SilenceBook({ store: deps.store, now });
  // A child with its own redaction, so the Authorization header stays out of request logs whatever
  // logger the caller passes (a child's redact replaces its parent's, hence the shared paths).
  const log = deps.log.child({ component: 'http' }, { redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
  const app = Fastify({
    loggerInstance: log,
    // Scrapes and health checks every few seconds would drown the log; onResponse below logs instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Requests take turns with the probe scheduler's timers: a crowd opening /status does not delay probes.
    serverFactory: serverTakingTurns,
  }) as unknown as FastifyInstance;

  // The API speaks JSON only; a text body is a client mistake worth a 415 rather than a puzzling 400.
  app.removeContentTypeParser('text/plain');

  // deps.config may be a getter that a reload swaps; secrets of earlier configs stay secret after rotation.
  let secretsFrom: Config | null = null;
  let secrets: string[] = [];
  const currentSecrets = (): string[] => {
    if (deps.config !== secretsFrom) {
      secretsFrom = deps.config;
      secrets = [...new Set([...secretsOf(secretsFrom), ...secrets])].sort((a, b) => b.length - a.length);
    }
    return secrets;
  };
  currentSecrets();

  const scrub = (text: string): string => {
    const known = currentSecrets();
    return known.length > 0 ? scrubSecrets(text, known) : text;
  };
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return typeof payload === 'string' ? scrub(payload) : payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const entry = {
      method: request.method,
      // An action link's token is a day's worth of access to an incident: kept out of the log.
      path: request.url.split('?')[0]?.replace(/^\/act\/[^/]+/, '/act/[token]'),
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    // Writes change incidents, so they are worth a line at info; reads are noise unless they fail.
    if (reply.statusCode >= 500) request.log.warn(entry, 'request answered with a server error');
    else if (request.method === 'POST' || request.method === 'DELETE') request.log.info(entry, 'write request');
    else request.log.debug(entry, 'request');
  });

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.statusCode, err.code, err.message);
    if (err instanceof StoreUnavailableError) {
      // Not vigil's fault nor the request's: PostgreSQL is down or restarting. What the daemon holds in
      // memory was answered from there already; this read needs the store. The error's own text may
      // name the server's address, so the answer names the store as the config does instead.
      request.log.warn({ err: { code: err.code } }, 'request needs the store, which is unavailable');
      const message = `${storeLabel(deps.config.store)} is unavailable; vigil goes on probing and paging from memory and writes back once it is reachable: try again shortly`;
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      if (!/^\/(status|act)(\/|$|\?)/.test(request.url)) return sendError(reply, 503, 'store_unavailable', message);
      const at = now();
      return sendPage(deps, reply, 503, 'unavailable', { title: 'Store unavailable · vigil', refreshSeconds: REFRESH_SECONDS }, { message, generated: timeView(at, at) });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx errors (bad JSON, wrong content type, body too large) describe the request, not us.
      return sendError(reply, status, CLIENT_ERROR_CODES[status] ?? 'bad_request', err.message);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal', 'internal error; see the vigil log');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    return sendError(reply, 404, 'not_found', `no route ${request.method} ${path}`);
  });

  healthRoutes(app, deps);
  metricsRoutes(app, deps);
  // What the pages show of the engine state, the config and the silences are replaced, never changed in
  // place: their identities tell the status pages when to render again.
  const kept = { key: () => [deps.shownState?.() ?? deps.engineState(), deps.config, silences.current()], scrub };
  statusRoutes(app, deps, now, kept);
  clusterRoutes(app, deps);
  statusPageRoutes(app, deps, now, kept, silences);
  incidentRoutes(app, deps, now);
  reviewRoutes(app, deps, now);
  silenceRoutes(app, { get config() { return deps.config; }, silences }, now);
  // In its own scope, so its form-body parser does not reach the JSON API.
  void app.register(async (scope) => actRoutes(scope, deps, now));
  pushRoutes(app, deps, now);
  return app;
}
