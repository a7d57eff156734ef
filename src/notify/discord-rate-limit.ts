// Per-webhook rate-limit bucket read from Discord's X-RateLimit-* headers, so vigil waits instead of earning 429s.

/** Reset times are measured on receipt, so they are never earlier than Discord's; this covers rounding. */
const SAFETY_MS = 25;

export interface RateLimitHeaders {
  remaining: number | null;
  resetAfterMs: number | null;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function number(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export function readRateLimitHeaders(headers: Record<string, string | string[] | undefined>): RateLimitHeaders {
  const resetAfter = number(header(headers, 'x-ratelimit-reset-after'));
  return {
    remaining: number(header(headers, 'x-ratelimit-remaining')),
    resetAfterMs: resetAfter === null ? null : Math.ceil(resetAfter * 1000),
  };
}

/**
 * How long to wait after a 429: the body's `retry_after` (seconds, float), else the Retry-After
 * header, else the bucket's reset-after; null when Discord said nothing usable.
 */
export function retryAfterMs(body: unknown, headers: Record<string, string | string[] | undefined>): number | null {
  const fromBody = typeof body === 'object' && body !== null ? (body as { retry_after?: unknown }).retry_after : undefined;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return Math.ceil(fromBody * 1000) + SAFETY_MS;
  const fromHeader = number(header(headers, 'retry-after'));
  if (fromHeader !== null) return Math.ceil(fromHeader * 1000) + SAFETY_MS;
  const { resetAfterMs } = readRateLimitHeaders(headers);
  return resetAfterMs === null ? null : resetAfterMs + SAFETY_MS;
}

/**
 * What vigil knows of one webhook's bucket. Requests take a slot before they are sent, so two
 * channels sharing one webhook do not both spend its last request.
 */
export class WebhookBucket {
  #remaining: number | null = null;
  #resetAt = 0;

  /** Milliseconds to wait before the next request may go; 0 means go now (and a slot is taken). */
  take(now: number): number {
    if (this.#resetAt <= now) {
      this.#remaining = null;
      return 0;
    }
    if (this.#remaining === null) return 0;
    if (this.#remaining <= 0) return this.#resetAt - now;
    this.#remaining -= 1;
    return 0;
  }

  /** Learns from a response's headers, measured at `now` (when the response arrived). */
  update(limits: RateLimitHeaders, now: number): void {
    if (limits.resetAfterMs === null) return;
    const resetAt = now + limits.resetAfterMs + SAFETY_MS;
    if (limits.remaining !== null) {
      // Responses to concurrent requests arrive in any order: the lowest remaining is the truth.
      const sameWindow = this.#resetAt > now && Math.abs(resetAt - this.#resetAt) < 1_000;
      this.#remaining = sameWindow && this.#remaining !== null ? Math.min(this.#remaining, limits.remaining) : limits.remaining;
    }
    this.#resetAt = resetAt;
  }

  /** After a 429: nothing more until `retryAfterMs` has passed. */
  exhaust(retryAfterMs: number, now: number): void {
    this.#remaining = 0;
    this.#resetAt = Math.max(this.#resetAt, now + retryAfterMs);
  }
}
