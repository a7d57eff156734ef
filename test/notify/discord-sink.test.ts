// The Discord sink and the outbox against the strict fake Discord: statuses, buckets, dead webhooks, order.
import { pino } from 'pino';
import t from 'tap';
import { createMetrics } from '../../src/metrics.js';
import { WebhookBucket, readRateLimitHeaders, retryAfterMs } from '../../src/notify/discord-rate-limit.js';
import { Outbox } from '../../src/notify/outbox.js';
import { route } from '../../src/notify/route.js';
import { discordSink } from '../../src/notify/sinks/discord.js';
import { openStore } from '../../src/store/sqlite.js';
import type { IncidentEvent, OutboundMessage } from '../../src/types.js';
import { FakeDiscord } from '../helpers/fake-discord.js';

function memoryLog() {
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const log = pino({ level: 'debug', base: null }, { write: (l: string) => (raw.push(l), lines.push(JSON.parse(l))) });
  return { log, lines, raw };
}

function event(id: number, type: IncidentEvent['type'] = 'opened'): IncidentEvent {
  const at = Date.now();
  return {
    type, at, incidentId: id, severity: 'S1', environment: 'production', service: 'backend', probe: 'backend-health',
    findingKey: 'backend-health', summary: `Backend API down ${id}`, message: 'connection refused', openedAt: at, durationMs: 0,
    respondBy: at + 1_800_000, detail: 'connection refused',
  };
}

function message(id: number, channel: 'ops' | 'errors', e = event(id)): OutboundMessage {
  return { id, sink: 'discord', channel, createdAt: Date.now(), incidentId: e.incidentId, event: e.type, body: e };
}

async function fake(t: { teardown(fn: () => unknown): void }, opts = {}) {
  const d = await new FakeDiscord(opts).start();
  t.teardown(() => d.close());
  return d;
}

t.test('the bucket: waits when Remaining is 0, until Reset-After; learns the lowest remaining', async (t) => {
  const b = new WebhookBucket();
  t.equal(b.take(0), 0, 'nothing known: go');
  b.update({ remaining: 1, resetAfterMs: 2_000 }, 0);
  t.equal(b.take(10), 0, 'one left: go, and it is taken');
  t.ok(b.take(20) > 1_900, 'none left: wait for the reset');
  b.update({ remaining: 3, resetAfterMs: 1_990 }, 30);
  t.ok(b.take(40) > 0, 'a late answer from earlier in the window does not give slots back');
  t.equal(b.take(2_100), 0, 'after the reset: go');
  b.exhaust(5_000, 3_000);
  t.ok(b.take(3_001) >= 4_999, 'after a 429: wait its retry_after');
  t.strictSame(readRateLimitHeaders({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.5' }), { remaining: 0, resetAfterMs: 1_500 });
  t.equal(retryAfterMs({ retry_after: 0.25 }, { 'retry-after': '1' }), 275, 'the body wins, in seconds');
  t.equal(retryAfterMs(null, { 'retry-after': '2' }), 2_025);
});

t.test('posts with ?wait=true, and maps 429, 503, 404 and 401 to retry or give up', async (t) => {
  const d = await fake(t);
  const { log, lines, raw } = memoryLog();
  const webhooks = { ops: d.webhook('ops'), errors: d.webhook('errors'), warnings: null };
  const sink = discordSink({ webhooks, publicUrl: 'http://vigil.test', log });
  const signal = new AbortController().signal;

  t.strictSame(await sink.deliver(message(1, 'ops'), signal), { ok: true });
  t.equal(d.accepted('ops')[0]!.payload.content, '[INCIDENT] S1 - Backend API down 1 on production. Investigating.');
  t.strictSame(d.accepted('ops')[0]!.payload.allowed_mentions, { parse: [] });

  d.script('ops', { status: 429, retryAfter: 0.4 });
  const limited = await sink.deliver(message(2, 'ops'), signal);
  t.match(limited, { ok: false, permanent: false, outcome: 'rate_limited' });
  t.ok(!limited.ok && limited.retryAfterMs! >= 400 && limited.retryAfterMs! < 1_000, 'retry_after honoured');

  d.script('errors', { status: 503 });
  t.match(await sink.deliver(message(3, 'errors'), signal), { ok: false, permanent: false, error: /503/ });

  d.deleteWebhook('errors');
  t.match(await sink.deliver(message(4, 'errors'), signal), { ok: false, permanent: true, outcome: 'webhook_dead', error: /404 \(code 10015\)/ });
  const before = d.requests.length;
  t.match(await sink.deliver(message(5, 'errors'), signal), { ok: false, permanent: true, outcome: 'webhook_dead' });
  t.equal(d.requests.length, before, 'a dead webhook gets no more requests');
  t.strictSame(sink.deadChannels(), ['errors']);
  t.equal(lines.filter((l) => /webhook for #errors is gone/.test(l.msg)).length, 1, 'logged once, at error');

  const badToken = discordSink({ webhooks: { ops: webhooks.ops.replace(/[0-9a-f]+$/, 'nope'), errors: null, warnings: null }, publicUrl: null, log });
  t.match(await badToken.deliver(message(6, 'ops'), signal), { ok: false, permanent: true, outcome: 'webhook_dead', error: /401 \(code 50027\)/ });
  const token = webhooks.ops.split('/').pop()!;
  t.notOk(raw.some((l) => l.includes(token)), 'no log line holds a webhook token');
});

t.test('reads the bucket headers and waits instead of earning 429s', async (t) => {
  const d = await fake(t, { limit: 3, windowMs: 600 });
  const sink = discordSink({ webhooks: { ops: d.webhook('ops'), errors: null, warnings: null }, publicUrl: null, log: memoryLog().log });
  const signal = new AbortController().signal;
  for (let i = 1; i <= 10; i++) t.strictSame(await sink.deliver(message(i, 'ops'), signal), { ok: true }, `message ${i}`);
  t.equal(d.count(429), 0, 'no 429 at all');
  t.equal(d.accepted('ops').length, 10);
});

t.test('outbox + sink: in order per channel through 429s and an outage; dead webhook counted', async (t) => {
  const d = await fake(t);
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const metrics = createMetrics('test', { defaults: false });
  const { log } = memoryLog();
  const webhooks = { ops: d.webhook('ops'), errors: d.webhook('errors'), warnings: d.webhook('warnings') };
  const outbox = new Outbox({
    store, metrics, log, maxAgeMs: 3_600_000, pollMs: 50, backoff: () => 100,
    sinks: new Map([['discord', discordSink({ webhooks, publicUrl: null, log })]]),
  });
  t.teardown(() => outbox.stop());
  const channels = { discord: { errors: true, warnings: true, ops: true } };
  const events = Array.from({ length: 8 }, (_, i) => event(i + 1));
  store.apply({ subjects: [], incidents: [], timeline: [], events, messages: events.flatMap((e) => route(e, channels).map((r) => ({ ...r, createdAt: Date.now(), incidentId: e.incidentId, event: e.type }))) });
  d.script('ops', { status: 429, retryAfter: 0.2 }, { status: 503 });
  d.outage(300);
  outbox.start();
  const deadline = Date.now() + 30_000;
  while ((d.accepted('ops').length < 8 || d.accepted('errors').length < 8) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.strictSame(d.accepted('ops').map((a) => a.payload.content.match(/down (\d+)/)[1]), ['1', '2', '3', '4', '5', '6', '7', '8'], '#ops in order, each once');
  t.strictSame(d.accepted('errors').map((a) => a.payload.embeds[0].title.match(/down (\d+)/)[1]), ['1', '2', '3', '4', '5', '6', '7', '8'], '#errors in order, each once');
  const text = await metrics.registry.metrics();
  t.match(text, /vigil_notifications_total\{sink="discord",channel="ops",outcome="delivered"\} 8/);
  t.match(text, /vigil_notifications_total\{sink="discord",channel="ops",outcome="rate_limited"\} 1/);
  t.match(text, /vigil_outbox_pending 0/);

  d.deleteWebhook('warnings');
  const s3 = { ...event(9), severity: 'S3' as const };
  store.apply({ subjects: [], incidents: [], timeline: [], events: [s3], messages: [1, 2].map(() => ({ sink: 'discord', channel: 'warnings', body: s3, createdAt: Date.now(), incidentId: 9, event: 'opened' as const })) });
  outbox.kick();
  while (store.pendingCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const after = await metrics.registry.metrics();
  t.match(after, /vigil_notifications_total\{sink="discord",channel="warnings",outcome="webhook_dead"\} 2/, 'both given up as webhook_dead');
  t.equal(d.count(404, 'warnings'), 1, 'only the first reached Discord');
});

/** The outbox and the Discord sink over one stored message for #ops, against `d`. */
function deliveryOf(t: { teardown(fn: () => unknown): void }, d: FakeDiscord, opts: { deliveryTimeoutMs?: number } = {}) {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const metrics = createMetrics('test', { defaults: false });
  const { log, lines } = memoryLog();
  const webhooks = { ops: d.webhook('ops'), errors: d.webhook('errors'), warnings: d.webhook('warnings') };
  const outbox = new Outbox({
    store, metrics, log, maxAgeMs: 3_600_000, pollMs: 50, backoff: () => 50, ...opts,
    sinks: new Map([['discord', discordSink({ webhooks, publicUrl: null, log })]]),
  });
  t.teardown(() => outbox.stop());
  const e = event(1);
  store.apply({ subjects: [], incidents: [], timeline: [], events: [e], messages: [{ sink: 'discord', channel: 'ops', createdAt: Date.now(), incidentId: 1, event: 'opened', body: e }] });
  return { store, outbox, lines, metrics };
}

t.test('a Discord that stores the page but answers after 12 s gets it once: the timeout waits 30 s', { timeout: 60_000 }, async (t) => {
  const d = await fake(t);
  const { store, outbox } = deliveryOf(t, d);
  d.script('ops', { status: 'slow', delayMs: 12_000 });
  await outbox.drain();
  t.equal(d.accepted('ops').length, 1, 'sent once');
  t.equal(store.pendingCount(), 0, 'and recorded as delivered');
});

t.test('a Discord that never answers gets the page at most twice, then vigil stops resending', { timeout: 60_000 }, async (t) => {
  const d = await fake(t);
  const { store, outbox, lines, metrics } = deliveryOf(t, d, { deliveryTimeoutMs: 300 });
  d.script('ops', ...Array.from({ length: 6 }, () => ({ status: 'slow' as const, delayMs: 1_500 })));
  outbox.start();
  const deadline = Date.now() + 20_000;
  while (store.pendingCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1_000)); // long enough for a third send, were there one
  t.equal(d.accepted('ops').length, 2, 'the page and one resend, no more');
  t.equal(store.pendingCount(), 0, 'given up');
  const dead = lines.find((l) => l.msg === 'outbox: message given up (dead letter)');
  t.match(dead?.error, /^no answer to 2 sends \(last: delivery timed out after 300ms\); not sent again, as it may have arrived$/);
  t.match(await metrics.registry.metrics(), /vigil_notifications_total\{sink="discord",channel="ops",outcome="unanswered"\} 2/);
});

t.test('a refused connection proves nothing was sent: it is retried without counting toward the bound', { timeout: 60_000 }, async (t) => {
  const d = await fake(t);
  const { store, outbox } = deliveryOf(t, d, { deliveryTimeoutMs: 300 });
  const stored = store.pendingMessages(10)[0]!;
  store.markFailed(stored.id, 'connect ECONNREFUSED', 0, false);
  store.markFailed(stored.id, 'connect ECONNREFUSED', 0, false);
  await outbox.drain();
  t.equal(d.accepted('ops').length, 1, 'delivered after two failures that never reached Discord');
});
