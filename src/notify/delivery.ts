// Delivery vocabulary shared by the outbox and its sinks: outcomes, the backoff shape, URL redaction.
import retry from 'retry';
import type { DeliveryResult } from '../types.js';

/**
 * Outcome labels of vigil_notifications_total beyond the pass counts: a sink may name why a
 * delivery failed (429, dead webhook, refused payload); the outbox counts it under that name.
 */
export type SinkOutcome = 'rate_limited' | 'webhook_dead' | 'rejected';
export type NotificationOutcome = 'delivered' | 'failed' | 'dead' | SinkOutcome;

/** A DeliveryResult that may say why it failed; plain DeliveryResults still work. */
export type SinkResult = DeliveryResult & { outcome?: SinkOutcome };

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
