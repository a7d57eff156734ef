// The production retry backoff: its shape on its own, and the outbox timing retries by it on a fake clock.
import { pino } from 'pino';
import t from 'tap';
import { createMetrics } from '../../src/metrics.js';
import { BACKOFF, backoffMs } from '../../src/notify/delivery.js';
import { Outbox } from '../../src/notify/outbox.js';
import { openStore } from '../../src/store/sqlite.js';
import type { Sink } from '../../src/types.js';

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);

/** Runs `fn` with Math.random pinned to `value` (the backoff's jitter). */
function withRandom<T>(value: number, fn: () => T): T {
  const real = Math.random;
  Math.random = () => value;
  try {
    return fn();
  } finally {
    Math.random = real;
  }
}

t.test('backoff: 1 s doubling, stretched 1–2× by jitter, capped at one minute', async (t) => {
  t.same(BACKOFF, { factor: 2, minTimeout: 1_000, maxTimeout: 60_000, randomize: true });
  const attempts = [0, 1, 2, 3, 4, 5, 6, 7, 20];
  t.same(withRandom(0, () => attempts.map(backoffMs)), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000], 'without jitter');
  t.same(withRandom(0.5, () => attempts.map(backoffMs)), [1_500, 3_000, 6_000, 12_000, 24_000, 48_000, 60_000, 60_000, 60_000], 'half jitter');
  t.same(withRandom(0.999, () => [0, 1, 5].map(backoffMs)), [1_999, 3_998, 60_000], 'at most twice the base, still capped');
  for (let i = 0; i < 200; i++) {
    const attempt = i % 8;
    const base = Math.min(1_000 * 2 ** attempt, 60_000);
    const d = backoffMs(attempt);
    if (d < base || d > Math.min(2 * base, 60_000)) t.fail(`backoffMs(${attempt}) = ${d} outside [${base}, ${Math.min(2 * base, 60_000)}]`);
  }
  t.pass('200 random draws stayed in their band');
});

t.test('the outbox retries a failing delivery on the production backoff', async (t) => {
  const clock = { now: T0 };
  const now = () => clock.now;
  const store = openStore(':memory:', { now });
  t.teardown(() => store.close());
  const calls: number[] = [];
  const sink: Sink = {
    name: 'flaky',
    async deliver() {
      calls.push(clock.now);
      return calls.length < 9 ? { ok: false, permanent: false, error: 'HTTP 502' } : { ok: true };
    },
  };
  // No `backoff` option: the outbox uses backoffMs.
  const outbox = new Outbox({ store, sinks: new Map([['flaky', sink]]), metrics: createMetrics('test', { defaults: false }), log: pino({ enabled: false }), now, maxAgeMs: 86_400_000, pollMs: 60_000 });
  t.teardown(() => outbox.stop());
  store.apply({ subjects: [], incidents: [], timeline: [], events: [], messages: [{ sink: 'flaky', channel: 'ops', createdAt: T0, incidentId: null, event: 'opened', body: {} }] });

  const real = Math.random;
  Math.random = () => 0;
  t.teardown(() => {
    Math.random = real;
  });
  await outbox.runOnce();
  t.same(calls, [T0], 'first attempt at once');
  const expected = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
  for (const [n, delay] of expected.entries()) {
    const last = calls.at(-1)!;
    clock.now = last + delay - 1;
    await outbox.runOnce();
    t.equal(calls.length, n + 1, `retry ${n + 1} not before ${delay} ms`);
    clock.now = last + delay;
    await outbox.runOnce();
    t.equal(calls.length, n + 2, `retry ${n + 1} at ${delay} ms`);
  }
  t.equal(store.pendingCount(), 0, 'delivered on the ninth attempt');
});
