import { pino } from 'pino';
import t from 'tap';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { Outbox, redactUrls, type OutboxOptions } from '../../src/notify/outbox.js';
import { NO_DISCORD, route } from '../../src/notify/route.js';
import { consoleSink } from '../../src/notify/sinks/console.js';
import { openStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import type { DeliveryResult, IncidentEvent, Sink } from '../../src/types.js';
import { incidentEvent } from '../helpers/events.js';
import { matchExactly } from '../helpers/match.js';

/** The part of a tap test the harness needs: somewhere to hang its cleanup. */
type Test = Pick<typeof t, 'teardown'>;

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const HOUR = 3_600_000;

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const log = pino(
    { level: 'trace', base: null, formatters: { level: (label) => ({ level: label }) } },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { log, lines, raw };
}

/** A sink peer that records what it was given and answers from a per-channel script (ok once it runs out). */
function scriptedSink(name: string, script: Record<string, Array<DeliveryResult | Error>> = {}) {
  const calls: Array<{ id: number; channel: string; at: number }> = [];
  let clock = () => 0;
  const sink: Sink = {
    name,
    async deliver(msg) {
      calls.push({ id: msg.id, channel: msg.channel, at: clock() });
      const next = script[msg.channel]?.shift();
      if (next instanceof Error) throw next;
      return next ?? { ok: true };
    },
  };
  return { sink, calls, useClock: (now: () => number) => (clock = now) };
}

interface Harness {
  outbox: Outbox;
  store: Store;
  metrics: Metrics;
  lines: Array<Record<string, unknown>>;
  raw: string[];
  clock: { now: number };
  enqueue(sink: string, channel: string, createdAt?: number): number;
}

function harness(t: Test, sinks: Sink[], opts: Partial<OutboxOptions> = {}): Harness {
  const clock = { now: T0 };
  const now = opts.now ?? (() => clock.now);
  const store = openStore(':memory:', { now });
  t.teardown(() => store.close());
  const metrics = createMetrics('test', { defaults: false });
  const { log, lines, raw } = memoryLogger();
  const outbox = new Outbox({
    store,
    sinks: new Map(sinks.map((s) => [s.name, s])),
    metrics,
    log,
    now,
    maxAgeMs: 24 * HOUR,
    pollMs: 60_000,
    backoff: (attempt) => 1_000 * 2 ** attempt,
    ...opts,
  });
  t.teardown(() => outbox.stop());
  const enqueue = (sink: string, channel: string, createdAt = clock.now): number => {
    const [saved] = store.apply({
      subjects: [],
      incidents: [],
      timeline: [],
      events: [],
      messages: [{ sink, channel, createdAt, incidentId: null, event: 'opened', body: { n: channel } }],
    });
    if (!saved) throw new Error('store assigned no id');
    return saved.id;
  };
  return { outbox, store, metrics, lines, raw, clock, enqueue };
}

async function counted(metrics: Metrics, outcome: string): Promise<number> {
  const { values } = await metrics.notifications.get();
  return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
}


t.test('delivers in id order per channel and counts every delivery', async (t) => {
  const rec = scriptedSink('rec');
  const h = harness(t, [rec.sink]);
  const ids = ['ops', 'errors', 'ops', 'errors', 'ops'].map((channel) => h.enqueue('rec', channel));
  const pass = await h.outbox.drain();
  t.strictSame(pass, { delivered: 5, failed: 0, dead: 0 });
  const order = (channel: string) => rec.calls.filter((c) => c.channel === channel).map((c) => c.id);
  t.strictSame(order('ops'), [ids[0], ids[2], ids[4]]);
  t.strictSame(order('errors'), [ids[1], ids[3]]);
  t.equal(h.store.pendingCount(), 0);
  t.equal(await counted(h.metrics, 'delivered'), 5);
  t.equal((await h.metrics.outboxPending.get()).values[0]?.value, 0);
});

t.test('a retryable failure holds back only its own channel, with growing backoff', async (t) => {
  const fail = (error: string): DeliveryResult => ({ ok: false, permanent: false, error });
  const rec = scriptedSink('rec', { errors: [fail('HTTP 500'), fail('HTTP 502'), fail('HTTP 503')] });
  const h = harness(t, [rec.sink]);
  rec.useClock(() => h.clock.now);
  const e1 = h.enqueue('rec', 'errors'); // fails
  const o1 = h.enqueue('rec', 'ops'); // ok
  const e2 = h.enqueue('rec', 'errors'); // must wait for e1

  t.strictSame(await h.outbox.runOnce(), { delivered: 1, failed: 1, dead: 0 });
  t.strictSame(rec.calls.map((c) => c.id), [e1, o1], 'e2 is not tried while e1 waits');
  t.equal(h.store.pendingCount(), 2, 'e1 and e2 stay pending');
  t.equal((await h.metrics.outboxPending.get()).values[0]?.value, 2);

  // Later messages of an unblocked channel still go out while errors waits.
  const o2 = h.enqueue('rec', 'ops');
  h.clock.now = T0 + 999;
  await h.outbox.runOnce();
  t.strictSame(rec.calls.map((c) => c.id), [e1, o1, o2]);

  // First retry after backoff(0) = 1 s: e1 fails again (502), next after backoff(1) = 2 s.
  h.clock.now = T0 + 1_000;
  await h.outbox.runOnce();
  h.clock.now = T0 + 2_999;
  await h.outbox.runOnce();
  h.clock.now = T0 + 3_000;
  await h.outbox.runOnce(); // 503, next after 4 s
  h.clock.now = T0 + 7_000;
  await h.outbox.drain();
  t.strictSame(
    rec.calls.filter((c) => c.channel === 'errors').map((c) => [c.id, c.at - T0]),
    [
      [e1, 0],
      [e1, 1_000],
      [e1, 3_000],
      [e1, 7_000],
      [e2, 7_000],
    ],
  );
  t.equal(h.store.pendingCount(), 0);
  t.equal(await counted(h.metrics, 'failed'), 3);
  matchExactly(t, h.lines.filter((l) => l.level === 'warn'), [{ error: 'HTTP 500' }, { error: 'HTTP 502' }, { error: 'HTTP 503' }]);
});

t.test('retry-after is honoured when longer than the backoff', async (t) => {
  const rec = scriptedSink('rec', { ops: [{ ok: false, permanent: false, retryAfterMs: 60_000, error: 'HTTP 429' }] });
  const h = harness(t, [rec.sink]);
  const id = h.enqueue('rec', 'ops');
  await h.outbox.runOnce();
  h.clock.now = T0 + 59_999;
  await h.outbox.runOnce();
  t.equal(rec.calls.length, 1, 'not retried before retry-after');
  h.clock.now = T0 + 60_000;
  t.strictSame(await h.outbox.runOnce(), { delivered: 1, failed: 0, dead: 0 });
  t.strictSame(rec.calls.map((c) => c.id), [id, id]);
});

t.test('a permanent failure or an unknown sink is a dead letter and frees the channel', async (t) => {
  const rec = scriptedSink('rec', {
    ops: [{ ok: false, permanent: true, error: 'HTTP 404 from https://discord.com/api/webhooks/1/s3cr3t' }],
  });
  const h = harness(t, [rec.sink]);
  const dead = h.enqueue('rec', 'ops');
  const next = h.enqueue('rec', 'ops');
  const orphan = h.enqueue('discord', 'errors');
  t.strictSame(await h.outbox.runOnce(), { delivered: 1, failed: 0, dead: 2 });
  t.strictSame(rec.calls.map((c) => c.id), [dead, next]);
  t.equal(h.store.pendingCount(), 0);
  t.equal(await counted(h.metrics, 'dead'), 2);
  const errors = h.lines.filter((l) => l.level === 'error').sort((a, b) => Number(a.outbox_id) - Number(b.outbox_id));
  matchExactly(t, errors, [
    { outbox_id: dead, error: 'HTTP 404 from https://discord.com/[redacted]' },
    { outbox_id: orphan, sink: 'discord', error: 'no such sink: discord' },
  ]);
  t.notOk(h.raw.join('').includes('s3cr3t'), 'the webhook token never reaches the log');
});

t.test('a message older than maxAgeMs is given up with an error line, not sent', async (t) => {
  const rec = scriptedSink('rec');
  const h = harness(t, [rec.sink], { maxAgeMs: HOUR });
  const stale = h.enqueue('rec', 'ops', T0 - HOUR - 1);
  const fresh = h.enqueue('rec', 'ops', T0 - HOUR);
  t.strictSame(await h.outbox.runOnce(), { delivered: 1, failed: 0, dead: 1 });
  t.strictSame(rec.calls.map((c) => c.id), [fresh]);
  matchExactly(t, h.lines, [{ level: 'error', outbox_id: stale, msg: /dead letter/, error: /undelivered after 3600s/ }]);
});

t.test('a sink that throws is a retryable failure, its URLs redacted', async (t) => {
  const boom = new Error('POST https://discord.com/api/webhooks/123/TOKEN-abc?wait=true failed: ECONNREFUSED');
  const rec = scriptedSink('rec', { ops: [boom] });
  const h = harness(t, [rec.sink]);
  h.enqueue('rec', 'ops');
  t.strictSame(await h.outbox.runOnce(), { delivered: 0, failed: 1, dead: 0 });
  t.equal(h.store.pendingCount(), 1);
  matchExactly(t, h.lines, [{ level: 'warn', error: 'POST https://discord.com/[redacted] failed: ECONNREFUSED' }]);
  t.notOk(h.raw.join('').includes('TOKEN-abc'));
  h.clock.now = T0 + 1_000;
  t.strictSame(await h.outbox.runOnce(), { delivered: 1, failed: 0, dead: 0 });
});

t.test('a sink that hangs is abandoned after deliveryTimeoutMs', async (t) => {
  const hanging: Sink = { name: 'hang', deliver: () => new Promise(() => {}) };
  const h = harness(t, [hanging], { deliveryTimeoutMs: 50 });
  h.enqueue('hang', 'ops');
  t.strictSame(await h.outbox.runOnce(), { delivered: 0, failed: 1, dead: 0 });
  matchExactly(t, h.lines, [{ level: 'warn', error: 'delivery timed out after 50ms' }]);
});

t.test('a broken store is logged, never thrown out of the loop', async (t) => {
  const h = harness(t, [scriptedSink('rec').sink]);
  h.enqueue('rec', 'ops');
  h.store.close();
  t.strictSame(await h.outbox.runOnce(), { delivered: 0, failed: 0, dead: 0 });
  matchExactly(t, h.lines, [{ level: 'error', msg: /pass failed/ }, { level: 'error', msg: 'outbox: cannot count pending messages' }]);
});

t.test('start() and kick() deliver without an explicit pass', async (t) => {
  let delivered!: () => void;
  const done = new Promise<void>((resolve) => (delivered = resolve));
  const sink: Sink = { name: 'rec', deliver: async () => (delivered(), { ok: true }) };
  const h = harness(t, [sink], { now: Date.now, pollMs: HOUR });
  h.outbox.start();
  h.enqueue('rec', 'ops', Date.now());
  h.outbox.kick();
  await done;
  await h.outbox.stop();
  t.equal(h.store.pendingCount(), 0);
});

t.test('stop() waits for the delivery in flight', async (t) => {
  let release!: () => void;
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  const sink: Sink = {
    name: 'slow',
    deliver: () => {
      started();
      return new Promise((resolve) => (release = () => resolve({ ok: true })));
    },
  };
  const h = harness(t, [sink], { now: Date.now, pollMs: HOUR, stopTimeoutMs: 30_000 });
  h.outbox.start();
  h.enqueue('slow', 'ops', Date.now());
  h.outbox.kick();
  await inFlight;
  let stopped = false;
  const stopping = h.outbox.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(stopped, 'stop() has not returned while the delivery runs');
  release();
  await stopping;
  t.equal(h.store.pendingCount(), 0, 'the finished delivery was recorded');
});

t.test('stop() is bounded: a delivery that will not finish is aborted and stays pending', async (t) => {
  let seen: AbortSignal | undefined;
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  const sink: Sink = {
    name: 'stuck',
    deliver: (_msg, signal) => {
      seen = signal;
      started();
      return new Promise(() => {});
    },
  };
  const h = harness(t, [sink], { now: Date.now, pollMs: HOUR, stopTimeoutMs: 50 });
  h.outbox.start();
  h.enqueue('stuck', 'ops', Date.now());
  h.outbox.kick();
  await inFlight;
  await h.outbox.stop();
  t.equal(seen?.aborted, true);
  t.equal(h.store.pendingCount(), 1);
  matchExactly(t, h.lines, [{ level: 'warn', msg: /aborting/ }, { level: 'warn', error: 'delivery interrupted by shutdown' }]);
});

t.test('end to end: a routed event reaches the console sink as one line', async (t) => {
  const { log, lines } = memoryLogger();
  const h = harness(t, [consoleSink(log)]);
  const event = incidentEvent();
  h.store.apply({
    subjects: [],
    incidents: [],
    timeline: [],
    events: [],
    messages: route(event, NO_DISCORD).map((r) => ({ ...r, createdAt: T0, incidentId: 1, event: 'opened' as const })),
  });
  await h.outbox.drain();
  matchExactly(t, lines, [{ level: 'error', msg: '[INCIDENT] S1 - Backend API down on production. Investigating.', incident_id: 1 }]);
});

t.test('redactUrls keeps only scheme and host', async (t) => {
  t.equal(
    redactUrls('a https://user:pw@discord.com/api/webhooks/1/x?wait=true b http://10.0.0.2:8000/health'),
    'a https://discord.com/[redacted] b http://10.0.0.2:8000/[redacted]',
  );
  t.equal(redactUrls('no url here'), 'no url here');
});
