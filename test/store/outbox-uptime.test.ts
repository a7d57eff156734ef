// The store's outbox lifecycle, hourly uptime aggregates and retention, against real SQLite files.
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../src/store/sqlite.js';
import type { StoreChange } from '../../src/store/store.js';
import type { Incident, OutboundMessage } from '../../src/types.js';
import { tmpDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const H0 = Date.UTC(2025, 0, 6, 3, 0, 0);

function message(createdAt: number, channel = 'ops'): Omit<OutboundMessage, 'id'> {
  return { sink: 'discord', channel, createdAt, incidentId: null, event: 'opened', body: { content: `at ${createdAt}` } };
}

function change(over: Partial<StoreChange>): StoreChange {
  return { subjects: [], incidents: [], timeline: [], messages: [], events: [], ...over };
}

function incident(id: number, state: Incident['state'], at: number): Incident {
  return {
    id, state, severity: 'S3', environment: 'staging', service: 'webapp', summary: 'Webapp down',
    rootProbe: 'webapp', rootKey: 'webapp', symptoms: [], openedAt: at, acknowledgedAt: null,
    acknowledgedBy: null, resolvedAt: state === 'resolved' ? at : null, respondBy: null,
    lastReminderAt: null, message: 'status 502', timeline: [], evidence: [],
  };
}

t.test('outbox: due messages oldest first, retries wait, delivered and dead leave the queue', async (t) => {
  let now = H0;
  const store = openStore(join(tmpDir(t), 'vigil.db'), { now: () => now });
  t.teardown(() => store.close());
  const [a, b, c] = store.apply(change({ messages: [message(H0 - 2_000), message(H0 - 1_000, 'errors'), message(H0 + 5_000, 'warnings')] }));
  if (!a || !b || !c) throw new Error('apply returned fewer messages than it was given');
  t.ok(a.id < b.id && b.id < c.id, 'ids increase');
  t.equal(store.pendingCount(), 3);

  t.same(store.pendingMessages(10).map((m) => m.id), [a.id, b.id], 'a message created in the future is not due');
  t.same(store.pendingMessages(1).map((m) => m.id), [a.id], 'limit');
  t.same(store.pendingMessages(10)[1], { ...b, attempts: 0, unanswered: 0, lastError: null }, 'read back whole');

  store.markFailed(a.id, 'HTTP 503', H0 + 60_000);
  t.same(store.pendingMessages(10).map((m) => m.id), [b.id], 'a failed message waits for its next attempt');
  store.markDelivered(b.id, H0 + 1);
  t.same(store.pendingMessages(10), [], 'nothing else due yet');
  t.equal(store.pendingCount(), 2, 'the waiting retry and the future message still count');

  now = H0 + 5_000;
  t.same(store.pendingMessages(10).map((m) => m.id), [c.id]);
  store.markDead(c.id, 'HTTP 404: webhook gone', now);
  store.markDelivered(c.id, now); // too late: a dead message stays dead
  t.equal(store.pendingCount(), 1);

  now = H0 + 60_000;
  const [retry] = store.pendingMessages(10);
  t.match(retry, { id: a.id, attempts: 1, lastError: 'HTTP 503' }, 'attempts and last error are kept');
  store.markFailed(a.id, 'HTTP 429', now + 1_000);
  now += 1_000;
  t.match(store.pendingMessages(10), [{ id: a.id, attempts: 2, lastError: 'HTTP 429' }]);
  store.markDelivered(a.id, now);
  t.equal(store.pendingCount(), 0);
  t.same(store.pendingMessages(10), []);
});

t.test('uptime: many runs become one row per probe-hour, across flushes and restarts', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  const run = (probe: string, at: number, ok: boolean) => store.recordRun({ probe, environment: 'production', service: 'backend', at, ok });
  for (let i = 0; i < 120; i++) run('backend-health', H0 + i * 30_000, i % 10 !== 0); // one hour of 30 s runs
  for (let i = 0; i < 7; i++) run('backend-db-ready', H0 + 59 * 60_000 + i, true);
  store.flushUptime();
  store.flushUptime(); // nothing buffered: adds nothing
  for (let i = 0; i < 5; i++) run('backend-health', H0 + HOUR + i, false);

  // uptime() flushes what is buffered, so the last five runs are counted.
  const rows = store.uptime(H0);
  t.same(
    rows.map((r) => [r.probe, r.hour - H0, r.ok, r.failed]),
    [
      ['backend-db-ready', 0, 7, 0],
      ['backend-health', 0, 108, 12],
      ['backend-health', HOUR, 0, 5],
    ],
  );
  t.same(store.uptime(H0 + HOUR).map((r) => r.hour), [H0 + HOUR], 'hours that ended before since are left out');
  t.equal(store.uptime(H0 + HOUR / 2).length, 3, 'an hour that overlaps since is included');

  run('backend-health', H0 + HOUR + 10, true);
  store.close(); // flushes the buffer
  const again = openStore(file);
  t.teardown(() => again.close());
  t.match(again.uptime(H0 + HOUR), [{ probe: 'backend-health', hour: H0 + HOUR, ok: 1, failed: 5 }]);
});

t.test('prune deletes old resolved incidents, finished messages and uptime hours, and counts them', async (t) => {
  const now = H0 + 100 * DAY;
  const retention = 90 * DAY;
  const cutoff = now - retention;
  const store = openStore(join(tmpDir(t), 'vigil.db'), { now: () => now });
  t.teardown(() => store.close());
  const [delivered, dead, recent, pending] = store.apply(
    change({
      incidents: [
        incident(1, 'resolved', cutoff - 1),
        incident(2, 'resolved', cutoff - DAY),
        incident(3, 'resolved', cutoff), // exactly at the cutoff: kept
        incident(4, 'open', cutoff - 30 * DAY), // old but still open: kept
        incident(5, 'acknowledged', cutoff - 30 * DAY),
      ],
      timeline: [{ incidentId: 1, entry: { at: cutoff - 1, event: 'resolved', detail: '' } }],
      messages: [message(cutoff - DAY), message(cutoff - DAY), message(cutoff - DAY), message(cutoff - DAY)],
    }),
  );
  if (!delivered || !dead || !recent || !pending) throw new Error('apply returned fewer messages than it was given');
  store.markDelivered(delivered.id, cutoff - 10);
  store.markDead(dead.id, 'gone', cutoff - 10);
  store.markDelivered(recent.id, cutoff + 10);
  for (const at of [cutoff - 3 * HOUR, cutoff - 2 * HOUR, cutoff, now - HOUR]) {
    store.recordRun({ probe: 'webapp', environment: 'staging', service: 'webapp', at, ok: true });
  }

  t.same(store.prune(now, retention), { incidents: 2, messages: 2, uptime: 2 });
  t.same(store.listIncidents({}).map((i) => i.id), [5, 4, 3]);
  t.equal(store.pendingCount(), 1, 'a pending message is never pruned, however old');
  t.same(store.pendingMessages(10).map((m) => m.id), [pending.id]);
  t.equal(store.uptime(0).length, 2, 'the hour holding the cutoff and the recent one stay');
  t.same(store.prune(now, retention), { incidents: 0, messages: 0, uptime: 0 }, 'a second prune finds nothing');
  t.equal(store.loadEngineState(0).nextIncidentId, 6);
});

t.test('outbox: a message waits behind an earlier one of its channel that waits for a retry', async (t) => {
  let now = H0;
  const store = openStore(join(tmpDir(t), 'vigil.db'), { now: () => now });
  t.teardown(() => store.close());
  const [first, second, other] = store.apply(change({ messages: [message(H0 - 3_000), message(H0 - 2_000), message(H0 - 1_000, 'errors')] }));
  if (!first || !second || !other) throw new Error('apply returned fewer messages than it was given');
  store.markFailed(first.id, 'HTTP 503', H0 + 60_000);
  t.same(store.pendingMessages(10).map((m) => m.id), [other.id], 'the second ops message does not overtake the first; errors is not held up');
  now = H0 + 60_000;
  t.same(store.pendingMessages(10).map((m) => m.id), [first.id, second.id, other.id], 'once the first is due again, both go in order');
});
