// POST /api/push/{id}: heartbeats in from cron jobs; token in `?token=` or a bearer header, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { maskSecrets } from '../../probes/mask-secrets.js';
import type { PushPing } from '../../types.js';
import type { AppDeps } from '../deps.js';
import { sendError } from '../serialize.js';

/** A job's `msg` ends up in Discord and the status page: one line, this long at most. */
export const MAX_PUSH_MESSAGE = 200;
const BEARER = /^Bearer +(\S+) *$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Equal-length digests, so neither the comparison nor its length check tells anything about the token. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Untrusted text from the sender: control characters and runs of space folded, secrets masked, bounded. */
export function cleanPushMessage(raw: string): string | null {
  const text = maskSecrets(raw.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim());
  if (text === '') return null;
  return text.length > MAX_PUSH_MESSAGE ? `${text.slice(0, MAX_PUSH_MESSAGE - 1)}…` : text;
}

function one(value: unknown): string | undefined {
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

export function pushRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config' | 'store' | 'pushed'>, now: () => number): void {
  void app.register(async (scope) => {
    // Cron jobs send whatever curl sends (`-d ''` is a form): the body is read and ignored, never a 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

    scope.post('/api/push/:id', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const query = request.query as Record<string, unknown>;
      const probe = deps.config.probes.find((p) => p.id === id && p.spec.type === 'push');
      const expected = probe?.secrets?.token;
      if (!probe || expected === undefined) return sendError(reply, 404, 'not_found', `no push probe "${id}"`);
      const header = request.headers.authorization;
      const token = one(query.token) ?? (typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined);
      if (token === undefined) {
        reply.header('www-authenticate', 'Bearer realm="vigil"');
        return sendError(reply, 401, 'unauthorized', 'missing token: send ?token=… or "Authorization: Bearer <token>"');
      }
      if (!sameToken(token, expected)) {
        reply.header('www-authenticate', 'Bearer realm="vigil", error="invalid_token"');
        return sendError(reply, 401, 'unauthorized', 'invalid token');
      }
      const status = one(query.status) ?? 'ok';
      if (status !== 'ok' && status !== 'fail') return sendError(reply, 400, 'bad_request', `query.status: expected "ok" or "fail", got ${JSON.stringify(status.slice(0, 20))}`);
      const msg = one(query.msg);
      const ping: PushPing = { at: now(), ok: status === 'ok', message: msg === undefined ? null : cleanPushMessage(msg) };
      deps.store.recordPush(probe.id, ping);
      deps.pushed?.(probe.id);
      return { probe: probe.id, status, at: new Date(ping.at).toISOString() };
    });
  });
}
