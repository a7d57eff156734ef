// Delivery vocabulary shared by the outbox and its sinks: outcomes, the backoff shape, URL redaction.
import retry from 'retry';
import type { DeliveryResult } from '../types.js';

/**
 * Outcome labels of vigil_notifications_total beyond the pass counts: a sink may name why a
 * delivery failed (429, dead webhook, refused payload); the outbox counts it under that name.
 */
export type SinkOutcome = 'rate_limited' | 'webhook_dead' | 'rejected' | 'unanswered';
export type NotificationOutcome = 'delivered' | 'failed' | 'dead' | SinkOutcome;

/** A DeliveryResult that may say why it failed; plain DeliveryResults still work. */
export type SinkResult = DeliveryResult & { outcome?: SinkOutcome };

/**
 * Sends of one message that may get no answer (a timeout, a connection cut after the request went
 * out): the peer may have stored it each time, so after this many it is not sent again. Two means
 * at most one duplicate from timeouts: the page, and one resend.
 */
export const MAX_UNANSWERED = 2;

/** Errors that prove the request never left (no connection was made): retrying them cannot duplicate. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** Whether a sink error leaves the delivery's fate unknown (the request may have arrived). */
export function maybeSent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && NOT_SENT.has(code));
}

export class OutboxError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'OutboxError';
    this.code = code;
  }
}

/**
 * Exponential backoff shape: 1 s, 2 s, 4 s … each stretched by a random 1–2× (jitter), capped at
 * 1 min: a page held back longer than that by an outage that has ended is worse than a few extra
 * requests to a webhook that is down.
 */
export const BACKOFF = { factor: 2, minTimeout: 1_000, maxTimeout: 60_000, randomize: true } as const;

/** Delay before retry number `attempt` (0-based), timed by the `retry` package. */
export function backoffMs(attempt: number): number {
  return retry.createTimeout(attempt, BACKOFF);
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi;

/** Webhook URLs carry their token in the path, so an error keeps only scheme and host of any URL. */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => {
    try {
      const url = new URL(found);
      return `${url.protocol}//${url.host}/[redacted]`;
    } catch {
      return '[redacted url]';
    }
  });
}
