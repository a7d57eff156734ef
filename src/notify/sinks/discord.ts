// The Discord sink: posts an outbox message to its channel's webhook and says whether to retry.
import type { Logger } from 'pino';
import { request } from 'undici';
import type { IncidentEvent, OutboundMessage, Sink } from '../../types.js';
import { buildDiscordPayload, type PayloadOptions } from '../discord-payload.js';
import { WebhookBucket, readRateLimitHeaders, retryAfterMs } from '../discord-rate-limit.js';
import type { SinkResult } from '../delivery.js';
import { DISCORD_SINK, type DiscordChannel } from '../route.js';

/** A wait for the bucket longer than this goes back to the outbox instead of holding the attempt. */
const MAX_INLINE_WAIT_MS = 5_000;

export interface DiscordSinkOptions extends PayloadOptions {
  /** Webhook URL per channel (secret: the token is in the path), null when not configured. */
  webhooks: Record<DiscordChannel, string | null>;
  log: Logger;
  now?: () => number;
}

export interface DiscordSink extends Sink {
  /** Channels whose webhook answered 404 or 401; nothing more is sent to them until a reload. */
  deadChannels(): DiscordChannel[];
}

const CHANNELS: readonly string[] = ['errors', 'warnings', 'ops'];

function isChannel(value: string): value is DiscordChannel {
  return CHANNELS.includes(value);
}

/** Reads the stored IncidentEvent back defensively: a row from another version must not crash the sink. */
function readEvent(msg: OutboundMessage): IncidentEvent | null {
  const e = msg.body as Partial<IncidentEvent> | null;
  if (!e || typeof e !== 'object') return null;
  if (typeof e.type !== 'string' || typeof e.severity !== 'string' || typeof e.summary !== 'string') return null;
  if (typeof e.environment !== 'string' || typeof e.incidentId !== 'number' || typeof e.at !== 'number') return null;
  return {
    service: '',
    probe: '',
    findingKey: '',
    message: '',
    openedAt: e.at,
    durationMs: 0,
    respondBy: null,
    detail: '',
    ...e,
  } as IncidentEvent;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Discord's error body, shortened; it names fields and codes, never the webhook's token. */
function describe(status: number, body: unknown): string {
  const b = typeof body === 'object' && body !== null ? (body as { code?: unknown; message?: unknown }) : {};
  const detail = typeof b.message === 'string' ? `: ${b.message}` : '';
  const code = typeof b.code === 'number' ? ` (code ${b.code})` : '';
  return `Discord answered ${status}${code}${detail}`.slice(0, 300);
}

/** Every HTTP answer maps to deliver / retry / give up here, and nowhere else. */
export function classify(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): SinkResult {
  if (status >= 200 && status < 300) return { ok: true };
  const error = describe(status, body);
  if (status === 429) return { ok: false, permanent: false, retryAfterMs: retryAfterMs(body, headers) ?? 1_000, error, outcome: 'rate_limited' };
  if (status === 404 || status === 401) return { ok: false, permanent: true, error, outcome: 'webhook_dead' };
  if (status === 408 || status >= 500) return { ok: false, permanent: false, error };
  // 400 (over a limit, bad JSON), 403, 413: the same request can only fail again.
  return { ok: false, permanent: true, error, outcome: 'rejected' };
}

export function discordSink(opts: DiscordSinkOptions): DiscordSink {
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, WebhookBucket>();
  const dead = new Map<DiscordChannel, string>();

  const bucketOf = (url: string): WebhookBucket => {
    let bucket = buckets.get(url);
    if (!bucket) buckets.set(url, (bucket = new WebhookBucket()));
    return bucket;
  };

  async function deliver(msg: OutboundMessage, signal: AbortSignal): Promise<SinkResult> {
    const channel = msg.channel;
    const url = isChannel(channel) ? opts.webhooks[channel] : null;
    if (!isChannel(channel) || !url) return { ok: false, permanent: true, error: `no Discord webhook for channel ${channel}`, outcome: 'rejected' };
    const wasDead = dead.get(channel);
    if (wasDead) return { ok: false, permanent: true, error: `webhook for #${channel} is dead (${wasDead})`, outcome: 'webhook_dead' };
    const event = readEvent(msg);
    // Built at delivery: the "Acknowledge" link's day of validity starts when the message goes out.
    const payload = event && buildDiscordPayload(event, channel, { ...opts, signedAt: now() });
    if (!payload) return { ok: false, permanent: true, error: `nothing to post for ${msg.event} in #${channel}`, outcome: 'rejected' };

    const bucket = bucketOf(url);
    for (let wait = bucket.take(now()); wait > 0; wait = bucket.take(now())) {
      if (wait > MAX_INLINE_WAIT_MS) return { ok: false, permanent: false, retryAfterMs: wait, error: 'webhook rate limit: waiting for the bucket to reset', outcome: 'rate_limited' };
      await sleep(wait, signal);
    }

    const target = new URL(url);
    target.searchParams.set('wait', 'true');
    // Without it Discord accepts the message and silently drops its buttons.
    if (payload.components) target.searchParams.set('with_components', 'true');
    const res = await request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal,
    });
    const text = await res.body.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const at = now();
    bucket.update(readRateLimitHeaders(res.headers), at);
    const result = classify(res.statusCode, body, res.headers);
    if (!result.ok && result.outcome === 'rate_limited' && result.retryAfterMs !== undefined) bucket.exhaust(result.retryAfterMs, at);
    if (!result.ok && result.outcome === 'webhook_dead') {
      dead.set(channel, result.error);
      opts.log.error(
        { sink: DISCORD_SINK, channel, status: res.statusCode, error: result.error },
        `Discord webhook for #${channel} is gone or its token is invalid: nothing more is sent there until the config is fixed and reloaded`,
      );
    } else if (!result.ok && result.outcome === 'rejected') {
      opts.log.error({ sink: DISCORD_SINK, channel, outbox_id: msg.id, status: res.statusCode, error: result.error }, 'Discord refused a message');
    }
    return result;
  }

  return {
    name: DISCORD_SINK,
    deliver,
    deadChannels: () => [...dead.keys()],
  };
}
