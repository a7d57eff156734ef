// Signed action links: a token naming one incident and an expiry, HMAC-SHA256 signed with server.action_secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A link is good for at most a day: alerts older than that have newer reminders, or none are needed. */
export const ACTION_TOKEN_TTL_MS = 24 * 3_600_000;

export interface ActionClaim {
  incidentId: number;
  /** ms since epoch; the link is refused from this instant on. */
  expiresAt: number;
}

export type ActionVerdict =
  | ({ ok: true } & ActionClaim)
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'other_incident'; claim?: ActionClaim };

const PART = /^[A-Za-z0-9_-]+$/;
const SIGNATURE_BYTES = 32;
/** Payload version: a future change of its fields makes old links malformed instead of misread. */
const VERSION = 1;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload, 'utf8').digest();
}

/** `base64url(payload).base64url(HMAC-SHA256(secret, payload))`, the payload `{"v":1,"i":ID,"e":EXPIRY_SECONDS}`. */
export function signActionToken(secret: string, claim: ActionClaim): string {
  const payload = JSON.stringify({ v: VERSION, i: claim.incidentId, e: Math.floor(claim.expiresAt / 1000) });
  return `${Buffer.from(payload, 'utf8').toString('base64url')}.${mac(secret, payload).toString('base64url')}`;
}

/** A token for `incidentId` that expires `ttlMs` (at most a day) from `now`. */
export function actionTokenFor(secret: string, incidentId: number, now: number, ttlMs = ACTION_TOKEN_TTL_MS): string {
  return signActionToken(secret, { incidentId, expiresAt: now + Math.min(ttlMs, ACTION_TOKEN_TTL_MS) });
}

/** base64url text to bytes, or null unless it is the canonical encoding (Buffer.from skips bad characters). */
function decode(part: string): Buffer | null {
  if (!PART.test(part)) return null;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : null;
}

function readClaim(payload: string): ActionClaim | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  const p = parsed as { v?: unknown; i?: unknown; e?: unknown } | null;
  if (typeof p !== 'object' || p === null || p.v !== VERSION) return null;
  if (!Number.isSafeInteger(p.i) || (p.i as number) < 1 || !Number.isSafeInteger(p.e)) return null;
  return { incidentId: p.i as number, expiresAt: (p.e as number) * 1000 };
}

/**
 * Checks a token: its shape, its signature (in constant time), its expiry, and, when `incidentId` is
 * given, that it is that incident's. The signature is checked before anything the payload says is believed.
 */
export function verifyActionToken(secret: string, token: string, opts: { now: number; incidentId?: number }): ActionVerdict {
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed' };
  const payloadBytes = decode(parts[0]!);
  const signature = decode(parts[1]!);
  if (!payloadBytes || !signature || signature.length !== SIGNATURE_BYTES) return { ok: false, reason: 'malformed' };
  const payload = payloadBytes.toString('utf8');
  if (!timingSafeEqual(signature, mac(secret, payload))) return { ok: false, reason: 'forged' };
  const claim = readClaim(payload);
  if (!claim) return { ok: false, reason: 'malformed' };
  if (opts.now >= claim.expiresAt) return { ok: false, reason: 'expired', claim };
  if (opts.incidentId !== undefined && opts.incidentId !== claim.incidentId) return { ok: false, reason: 'other_incident', claim };
  return { ok: true, ...claim };
}
