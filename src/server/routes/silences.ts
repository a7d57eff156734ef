// /api/silences: list; add and expire with the bearer token. A silence holds pages like a maintenance window.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../../duration.js';
import type { Silence } from '../../incidents/silences.js';
import type { SilenceBook } from '../../silence-book.js';
import type { AppDeps } from '../deps.js';
import { requireWriteToken } from '../auth.js';
import { ApiError, rfc3339 } from '../serialize.js';
import { by, parse } from './incidents.js';

/** Longer than this is not a silence but a disabled probe: say so in the config instead. */
export const MAX_SILENCE_MS = 30 * 86_400_000;

export interface SilenceJson {
  id: number;
  matchers: { probe?: string; service?: string; environment?: string };
  starts_at: string;
  ends_at: string;
  reason: string;
  by: string;
  state: 'active' | 'expired';
  expired_by: string | null;
}

export function silenceJson(s: Silence, now: number): SilenceJson {
  return {
    id: s.id,
    matchers: { ...s.matchers },
    starts_at: rfc3339(s.startsAt),
    ends_at: rfc3339(s.endsAt),
    reason: s.reason,
    by: s.by,
    state: s.startsAt <= now && now < s.endsAt ? 'active' : 'expired',
    expired_by: s.expiredBy,
  };
}

const matcherValue = (what: string) =>
  z.string({ error: `expected a ${what} name` }).trim().min(1, { error: `expected a non-empty ${what} name` }).max(200, { error: `expected a ${what} name of at most 200 characters` });

const silenceBody = z.strictObject({
  matchers: z
    .strictObject(
      { probe: matcherValue('probe').optional(), service: matcherValue('service').optional(), environment: matcherValue('environment').optional() },
      { error: 'expected an object like {"probe": "backend-health"} or {"service": "backend", "environment": "production"}' },
    )
    .refine((m) => m.probe !== undefined || m.service !== undefined || m.environment !== undefined, {
      error: 'expected at least one of "probe", "service", "environment": a silence of everything would hide every outage',
    }),
  duration: z.string({ error: 'expected a duration like "2h"' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) ctx.addIssue({ code: 'custom', message: `expected a duration like "2h", got ${JSON.stringify(text)}` });
    else if (ms > MAX_SILENCE_MS) ctx.addIssue({ code: 'custom', message: `expected at most 30d, got ${JSON.stringify(text)}; disable the probe in the config for longer` });
    return ms ?? 0;
  }),
  reason: z.string({ error: 'expected why, e.g. "deploy 2.4"' }).trim().min(1, { error: 'expected a non-empty reason' }).max(500, { error: 'expected a reason of at most 500 characters' }),
  by,
});
const expireBody = z.strictObject({ by });
const idParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, { error: 'expected a silence id: a positive whole number' }).transform(Number) });
const listQuery = z.object({ state: z.enum(['active', 'expired', 'all'], { error: 'expected "active", "expired" or "all"' }).optional() });

/** A matcher that names nothing in the config would silence nothing: refused, naming what exists. */
function checkKnown(deps: Pick<AppDeps, 'config'>, m: { probe?: string; environment?: string }): void {
  const config = deps.config;
  if (m.probe !== undefined && !config.probes.some((p) => p.id === m.probe)) {
    const known = config.probes.map((p) => p.id).slice(0, 20).join(', ');
    throw new ApiError(400, 'bad_request', `body.matchers.probe: no probe ${JSON.stringify(m.probe)} in the config (known: ${known})`);
  }
  if (m.environment !== undefined && !Object.hasOwn(config.environments, m.environment)) {
    throw new ApiError(400, 'bad_request', `body.matchers.environment: no environment ${JSON.stringify(m.environment)} in the config (known: ${Object.keys(config.environments).join(', ')})`);
  }
}

export function silenceRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config'> & { silences: SilenceBook }, now: () => number): void {
  app.get('/api/silences', async (request) => {
    const { state } = parse(listQuery, request.query, 'query');
    const at = now();
    return { silences: deps.silences.list(state ?? 'active').map((s) => silenceJson(s, at)) };
  });

  const onRequest = requireWriteToken(() => deps.config.server.apiToken);
  app.post('/api/silences', { onRequest }, async (request, reply) => {
    const body = parse(silenceBody, request.body, 'body');
    checkKnown(deps, body.matchers);
    const silence = deps.silences.add({ matchers: body.matchers, durationMs: body.duration, reason: body.reason, by: body.by });
    request.log.info({ silence_id: silence.id, matchers: silence.matchers, by: silence.by }, `silence #${silence.id} added`);
    return reply.code(201).send(silenceJson(silence, now()));
  });

  app.delete('/api/silences/:id', { onRequest }, async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    // `by` may come as JSON or, for clients that send no body with DELETE, as ?by=NAME.
    const { by: who } = parse(expireBody, request.body ?? request.query, request.body ? 'body' : 'query');
    const result = deps.silences.expire(id, who);
    if (!result.ok) throw new ApiError(result.code === 'not_found' ? 404 : 409, result.code, result.message);
    request.log.info({ silence_id: id, by: who }, `silence #${id} expired`);
    return silenceJson(result.silence, now());
  });
}
