// Bearer-token check for the write endpoints: refused when no token is configured, constant-time compare.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './serialize.js';

export type BearerVerdict = 'ok' | 'missing' | 'malformed' | 'wrong';

// RFC 6750 token68 characters; anything else after "Bearer " is malformed, not merely wrong.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Judges an Authorization header against the configured token. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths, and timingSafeEqual never sees unequal sizes.
 */
export function checkBearer(header: string | string[] | undefined, token: string): BearerVerdict {
  if (header === undefined || header === '') return 'missing';
  if (Array.isArray(header)) return 'malformed';
  const match = BEARER.exec(header);
  if (!match?.[1]) return 'malformed';
  return timingSafeEqual(digest(match[1]), digest(token)) ? 'ok' : 'wrong';
}

const CHALLENGE = 'Bearer realm="vigil"';

/**
 * An onRequest hook for write routes. It runs before the body is parsed, so an unauthenticated
 * caller learns nothing from validation errors. `token` is read per request from the getter so a
 * reloaded config takes effect without rebuilding the app.
 */
export function requireWriteToken(token: () => string | null) {
  return async function writeTokenHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const expected = token();
    if (expected === null || expected === '') {
      return sendError(reply, 403, 'writes_disabled', 'writes are disabled: no API token is configured (server.api_token_env)');
    }
    const verdict = checkBearer(request.headers.authorization, expected);
    if (verdict === 'ok') return;
    if (verdict === 'missing') {
      reply.header('www-authenticate', CHALLENGE);
      return sendError(reply, 401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
    }
    if (verdict === 'malformed') {
      reply.header('www-authenticate', `${CHALLENGE}, error="invalid_request"`);
      return sendError(reply, 401, 'unauthorized', 'malformed Authorization header: expected "Bearer <token>"');
    }
    reply.header('www-authenticate', `${CHALLENGE}, error="invalid_token"`);
    return sendError(reply, 401, 'unauthorized', 'invalid token');
  };
}
