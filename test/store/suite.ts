// The Store contract, one suite run against every store (SQLite in sqlite.test.ts, PostgreSQL in postgres.test.ts).
import type { Test } from 'tap';
import type { StoreChange } from '../../src/store/store.js';
import type { BackingStore } from '../../src/store/write-behind.js';
import type { MessageState } from '../../src/store/rows.js';
import type { Incident, OutboundMessage, SubjectState } from '../../src/types.js';
import { makeIncident, NOW } from '../server/harness.js';

/** One store kind: fresh() is a new, empty place for a store, which open() opens (again). */
export interface StoreBackend {
  name: string;
  fresh(t: Test): Promise<StorePlace>;
}

export interface StorePlace {
  open(opts?: { now?: () => number }): BackingStore;
  /** Rows in `table`, read beside the store (not through it). */
  count(table: string): Promise<number>;
}

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function incident(id: number, over: Partial<Incident> = {}): Incident {
  return {
    id,
    state: 'open',
    severity: 'S1',
    environment: 'production',
    service: 'db',
    summary: 'Backend DB unreachable',
    rootProbe: 'backend-db-ready',
    rootKey: 'backend-db-ready',
    symptoms: [],
    openedAt: T0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    respondBy: T0 + 30 * 60_000,
    lastReminderAt: null,
    message: 'connection refused',
    timeline: [],
    evidence: [],
    ...over,
  };
}

function resolved(id: number, resolvedAt: number): Incident {
  return incident(id, { state: 'resolved', resolvedAt, openedAt: resolvedAt - 60_000 });
}

export function change(over: Partial<StoreChange> = {}): StoreChange {
  return { subjects: [], incidents: [], timeline: [], messages: [], events: [], ...over };
}

function message(createdAt: number, channel = 'ops'): Omit<OutboundMessage, 'id'> {
  return { sink: 'discord', channel, createdAt, incidentId: null, event: 'opened', body: { content: `at ${createdAt}` } };
}

/** Runs the whole Store contract against `backend`, each test on a fresh store. */
export function storeSuite(t: Test, backend: StoreBackend): void {
  const fresh = async (t: Test) => backend.fresh(t);
  /** Opens a fresh store, closed at the end of the test. */
  const opened = async (t: Test, opts?: { now?: () => number }) => {
    const store = (await fresh(t)).open(opts);
    t.teardown(() => store.close());
    return store;
  };

  t.test(`${backend.name}: an incident with timeline, evidence and symptoms survives close and reopen`, async (t) => {
    const place = await fresh(t);
    const opened = { at: T0, event: 'opened' as const, detail: 'connection refused' };
    const symptom = { at: T0 + 5_000, event: 'symptom' as const, detail: 'backend-health failed' };
    const ack = { at: T0 + 60_000, event: 'acknowledged' as const, detail: 'Acknowledged', by: 'ana' };
    const evidence = [{ at: T0 + 1_000, source: 'compose ps prod-backend', text: 'db  exited (1)\n"quoted" ✓' }];
    const subjects: SubjectState[] = [
      { key: 'backend-db-ready', probe: 'backend-db-ready', ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: 1 },
      { key: 'backend-health', probe: 'backend-health', ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: 1 },
      { key: 'host:prod-backend', probe: 'host:prod-backend', ok: null, failures: 0, successes: 0, severity: null, since: T0, incidentId: null },
    ];
    const first = incident(1, { symptoms: ['backend-health'], evidence, timeline: [opened, symptom] });
    const messages = [
      { sink: 'discord', channel: 'ops', createdAt: T0, incidentId: 1, event: 'opened' as const, body: { content: '[INCIDENT] S1' } },
      { sink: 'discord', channel: 'errors', createdAt: T0, incidentId: 1, event: 'opened' as const, body: { embeds: [{ title: 'S1 · x' }] } },
    ];

    const store = place.open();
    const sent = store.apply(change({ subjects, incidents: [first], timeline: [{ incidentId: 1, entry: opened }, { incidentId: 1, entry: symptom }], messages }));
    t.same(sent, messages.map((m, i) => ({ ...m, id: i + 1 })), 'messages come back with ids');
    const acked = { ...first, state: 'acknowledged' as const, acknowledgedAt: T0 + 60_000, acknowledgedBy: 'ana', pagedSeverity: 'S1' as const, timeline: [opened, symptom, ack] };
    store.apply(change({ incidents: [acked], timeline: [{ incidentId: 1, entry: ack }] }));
    store.close();

    const again = place.open();
    t.teardown(() => again.close());
    const state = again.loadEngineState(0);
    t.strictSame(state.incidents, [acked], 'incident read back exactly, timeline in order');
    t.strictSame(state.subjects, subjects, 'subjects read back exactly (ok: null stays null)');
    t.equal(state.nextIncidentId, 2);
    t.strictSame(again.getIncident(1), acked);
    t.equal(again.getIncident(99), null);
    t.strictSame(again.pendingMessages(10).map((m) => m.body), messages.map((m) => m.body), 'the undelivered messages are still there');
  });

  t.test(`${backend.name}: loadEngineState skips incidents resolved before the window`, async (t) => {
    const store = await opened(t);
    t.same(store.loadEngineState(0), { subjects: [], incidents: [], nextIncidentId: 1 }, 'empty store');
    store.apply(change({ incidents: [resolved(1, T0), resolved(2, T0 + 10 * 60_000), incident(3), incident(4, { state: 'acknowledged' })] }));
    const { incidents, nextIncidentId } = store.loadEngineState(T0 + 5 * 60_000);
    t.same(incidents.map((i) => i.id), [2, 3, 4]);
    t.equal(nextIncidentId, 5);
    t.same(store.loadEngineState(T0 + 10 * 60_000).incidents.map((i) => i.id), [2, 3, 4], 'the window is inclusive');
  });

  t.test(`${backend.name}: incident ids keep increasing after the newest ones are pruned`, async (t) => {
    const place = await fresh(t);
    const store = place.open();
    store.apply(change({ incidents: [resolved(1, T0), resolved(2, T0), resolved(3, T0)], timeline: [{ incidentId: 3, entry: { at: T0, event: 'resolved', detail: 'passing again' } }] }));
    t.same(store.prune(T0 + 100 * DAY, 90 * DAY), { incidents: 3, messages: 0, uptime: 0 });
    t.equal(store.loadEngineState(0).nextIncidentId, 4);
    store.close();

    const again = place.open();
    t.teardown(() => again.close());
    t.equal(again.loadEngineState(0).nextIncidentId, 4, 'still 4 after a restart');
    again.apply(change({ incidents: [incident(4)] }));
    t.equal(again.loadEngineState(0).nextIncidentId, 5);
    t.equal(await place.count('timeline'), 0, 'the timeline went with its incident');
  });

  t.test(`${backend.name}: a timeline entry of an unknown incident rolls the whole step back`, async (t) => {
    const store = await opened(t);
    t.throws(() => store.apply(change({ incidents: [incident(1)], messages: [message(T0)], timeline: [{ incidentId: 2, entry: { at: T0, event: 'opened', detail: '' } }] })));
    t.equal(store.getIncident(1), null, 'the incident of the step is not there');
    t.equal(store.pendingCount(), 0, 'nor its message');
  });

  t.test(`${backend.name}: listIncidents: open means open or acknowledged, newest first, limit 50 by default and 500 at most`, async (t) => {
    const store = await opened(t);
    const many = Array.from({ length: 600 }, (_, i) => resolved(i + 1, T0 + i));
    store.apply(change({ incidents: [...many, incident(601), incident(602, { state: 'acknowledged' }), resolved(603, T0)] }));

    t.same(store.listIncidents({ state: 'open' }).map((i) => [i.id, i.state]), [[602, 'acknowledged'], [601, 'open']]);
    t.same(store.listIncidents({ state: 'resolved', limit: 2 }).map((i) => i.id), [603, 600]);
    t.same(store.listIncidents({ limit: 3 }).map((i) => i.id), [603, 602, 601]);
    t.equal(store.listIncidents({}).length, 50);
    t.equal(store.listIncidents({ limit: 0 }).length, 50, 'a nonsense limit falls back to the default');
    t.equal(store.listIncidents({ limit: 10_000 }).length, 500);
  });

  t.test(`${backend.name}: ping writes; close is idempotent`, async (t) => {
    const place = await fresh(t);
    const store = place.open();
    store.ping(T0);
    store.ping(T0 + 1);
    t.ok(store.sizeBytes() > 0, 'the store has a size');
    t.equal(await place.count('meta'), 1, 'one heartbeat row, overwritten');
    store.close();
    store.close();
  });

  t.test(`${backend.name}: push heartbeats: the clock of a probe never pinged, the last ping kept across a reopen`, async (t) => {
    const place = await fresh(t);
    let store = place.open();
    t.equal(store.pushState('nightly-backup'), null, 'a probe never watched has no state');
    store.watchPush('nightly-backup', 1_000);
    store.watchPush('nightly-backup', 5_000);
    t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: null }, 'watching again keeps the first clock');
    store.recordPush('nightly-backup', { at: 7_000, ok: false, message: 'pg_dump failed' });
    store.close();
    store = place.open();
    t.teardown(() => store.close());
    t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: { at: 7_000, ok: false, message: 'pg_dump failed' } }, 'kept across a restart');
    store.recordPush('nightly-backup', { at: 9_000, ok: true, message: null });
    store.watchPush('nightly-backup', 10_000);
    t.same(store.pushState('nightly-backup'), { watchingSince: 1_000, last: { at: 9_000, ok: true, message: null } }, 'only the last ping is kept');
    store.recordPush('hourly-export', { at: 2_000, ok: true, message: null });
    t.same(store.pushState('hourly-export'), { watchingSince: 2_000, last: { at: 2_000, ok: true, message: null } }, 'a ping before any watch starts the clock too');
  });

  t.test(`${backend.name}: outbox: due messages oldest first, retries wait, delivered and dead leave the queue`, async (t) => {
    let now = T0;
    const store = await opened(t, { now: () => now });
    const [a, b, c] = store.apply(change({ messages: [message(T0 - 2_000), message(T0 - 1_000, 'errors'), message(T0 + 5_000, 'warnings')] }));
    if (!a || !b || !c) throw new Error('apply returned fewer messages than it was given');
    t.ok(a.id < b.id && b.id < c.id, 'ids increase');
    t.equal(store.pendingCount(), 3);

    t.same(store.pendingMessages(10).map((m) => m.id), [a.id, b.id], 'a message created in the future is not due');
    t.same(store.pendingMessages(1).map((m) => m.id), [a.id], 'limit');
    t.same(store.pendingMessages(10)[1], { ...b, attempts: 0, unanswered: 0, lastError: null }, 'read back whole');

    store.markFailed(a.id, 'HTTP 503', T0 + 60_000);
    t.same(store.pendingMessages(10).map((m) => m.id), [b.id], 'a failed message waits for its next attempt');
    store.markDelivered(b.id, T0 + 1);
    t.same(store.pendingMessages(10), [], 'nothing else due yet');
    t.equal(store.pendingCount(), 2, 'the waiting retry and the future message still count');

    now = T0 + 5_000;
    t.same(store.pendingMessages(10).map((m) => m.id), [c.id]);
    store.markDead(c.id, 'HTTP 404: webhook gone', now);
    store.markDelivered(c.id, now); // too late: a dead message stays dead
    t.equal(store.pendingCount(), 1);
    t.match(store.deadMessages(T0, 10), [{ id: c.id, sink: 'discord', channel: 'warnings', error: 'HTTP 404: webhook gone', at: now }], 'the given-up message is listed');
    t.same(store.deadMessages(now + 1, 10), [], 'not when given up before since');

    now = T0 + 60_000;
    const [retry] = store.pendingMessages(10);
    t.match(retry, { id: a.id, attempts: 1, lastError: 'HTTP 503' }, 'attempts and last error are kept');
    store.markFailed(a.id, 'timed out', now + 1_000, true);
    now += 1_000;
    t.match(store.pendingMessages(10), [{ id: a.id, attempts: 2, unanswered: 1, lastError: 'timed out' }], 'a send with no answer is counted');
    store.markDelivered(a.id, now);
    t.equal(store.pendingCount(), 0);
    t.same(store.pendingMessages(10), []);
  });

  t.test(`${backend.name}: outbox: a message waits behind an earlier one of its channel that waits for a retry`, async (t) => {
    let now = T0;
    const store = await opened(t, { now: () => now });
    const [first, second, other] = store.apply(change({ messages: [message(T0 - 3_000), message(T0 - 2_000), message(T0 - 1_000, 'errors')] }));
    if (!first || !second || !other) throw new Error('apply returned fewer messages than it was given');
    store.markFailed(first.id, 'HTTP 503', T0 + 60_000);
    t.same(store.pendingMessages(10).map((m) => m.id), [other.id], 'the second ops message does not overtake the first; errors is not held up');
    now = T0 + 60_000;
    t.same(store.pendingMessages(10).map((m) => m.id), [first.id, second.id, other.id], 'once the first is due again, both go in order');
  });

  t.test(`${backend.name}: held messages: released once, rewritten only while never attempted`, async (t) => {
    let now = T0;
    const store = await opened(t, { now: () => now });
    const held = { ...message(T0), holdUntil: T0 + 60_000 };
    const [a, b, c] = store.apply(change({ messages: [held, { ...held, channel: 'errors' }, { ...held, channel: 'warnings' }] }));
    if (!a || !b || !c) throw new Error('apply returned fewer messages than it was given');
    t.same(store.pendingMessages(10), [], 'held messages are not due');
    now = T0 + 60_000;
    store.markFailed(c.id, 'HTTP 503', T0 + 120_000);
    now = T0 + 1_000;
    const rewrite = (body: unknown) => ({ ...(body as object), triage: 'db exited (1)' });
    t.equal(store.releaseMessages([a.id, c.id, 999], now, rewrite), 1, 'only the one never attempted is released');
    t.same(store.pendingMessages(10).map((m) => [m.id, m.body]), [[a.id, { content: `at ${T0}`, triage: 'db exited (1)' }]], 'due now, with its new body');
    t.equal(store.releaseMessages([b.id], T0 + 90_000), 1, 'released without a rewrite');
    t.same(store.pendingMessages(10).map((m) => m.id), [a.id], 'never later than it already was');
    t.equal(store.releaseMessages([], now), 0);
  });

  t.test(`${backend.name}: uptime: many runs become one row per probe-hour, across flushes and restarts`, async (t) => {
    const place = await fresh(t);
    const store = place.open();
    const run = (probe: string, at: number, ok: boolean) => store.recordRun({ probe, environment: 'production', service: 'backend', at, ok });
    for (let i = 0; i < 120; i++) run('backend-health', T0 + i * 30_000, i % 10 !== 0); // one hour of 30 s runs
    for (let i = 0; i < 7; i++) run('backend-db-ready', T0 + 59 * 60_000 + i, true);
    store.flushUptime();
    store.flushUptime(); // nothing buffered: adds nothing
    for (let i = 0; i < 5; i++) run('backend-health', T0 + HOUR + i, false);

    // uptime() flushes what is buffered, so the last five runs are counted.
    t.same(store.uptime(T0).map((r) => [r.probe, r.hour - T0, r.ok, r.failed]), [
      ['backend-db-ready', 0, 7, 0],
      ['backend-health', 0, 108, 12],
      ['backend-health', HOUR, 0, 5],
    ]);
    t.same(store.uptime(T0 + HOUR).map((r) => r.hour), [T0 + HOUR], 'hours that ended before since are left out');
    t.equal(store.uptime(T0 + HOUR / 2).length, 3, 'an hour that overlaps since is included');

    run('backend-health', T0 + HOUR + 10, true);
    store.close(); // flushes the buffer
    const again = place.open();
    t.teardown(() => again.close());
    t.match(again.uptime(T0 + HOUR), [{ probe: 'backend-health', hour: T0 + HOUR, ok: 1, failed: 5 }]);
  });

  t.test(`${backend.name}: prune deletes old resolved incidents, finished messages and uptime hours, and counts them`, async (t) => {
    const now = T0 + 100 * DAY;
    const retention = 90 * DAY;
    const cutoff = now - retention;
    const store = await opened(t, { now: () => now });
    const state = (id: number, s: Incident['state'], at: number) => incident(id, { state: s, openedAt: at, resolvedAt: s === 'resolved' ? at : null });
    const [delivered, dead, recent, pending] = store.apply(
      change({
        incidents: [
          state(1, 'resolved', cutoff - 1),
          state(2, 'resolved', cutoff - DAY),
          state(3, 'resolved', cutoff), // exactly at the cutoff: kept
          state(4, 'open', cutoff - 30 * DAY), // old but still open: kept
          state(5, 'acknowledged', cutoff - 30 * DAY),
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

  t.test(`${backend.name}: silences: added, listed, expired early, and still there after a restart`, async (t) => {
    const place = await fresh(t);
    const store = place.open();
    const first = store.addSilence({ matchers: { probe: 'backend-health' }, startsAt: T0, endsAt: T0 + 2 * HOUR, reason: 'deploy 2.4', by: 'alice' });
    const second = store.addSilence({ matchers: { service: 'webapp', environment: 'staging' }, startsAt: T0, endsAt: T0 + HOUR, reason: 'migration', by: 'bob' });
    t.same(first, { id: 1, matchers: { probe: 'backend-health' }, startsAt: T0, endsAt: T0 + 2 * HOUR, reason: 'deploy 2.4', by: 'alice', expiredBy: null });
    t.equal(second.id, 2);
    t.same(store.listSilences({ activeAt: T0 }).map((s) => s.id), [2, 1], 'newest first');
    t.same(store.listSilences({ activeAt: T0 + HOUR }).map((s) => s.id), [1], 'the second is over at its end');
    t.same(store.getSilence(2), second);

    const expired = store.expireSilence(first.id, 'carol', T0 + 10 * 60_000);
    t.match(expired, { id: 1, endsAt: T0 + 10 * 60_000, expiredBy: 'carol' });
    t.equal(store.expireSilence(first.id, 'carol', T0 + 11 * 60_000), null, 'already over: nothing to expire');
    t.equal(store.expireSilence(99, 'carol', T0), null, 'unknown');
    store.close();

    const again = place.open();
    t.teardown(() => again.close());
    t.same(again.listSilences().map((s) => [s.id, s.expiredBy, s.matchers]), [[2, null, { service: 'webapp', environment: 'staging' }], [1, 'carol', { probe: 'backend-health' }]]);
    t.equal(again.addSilence({ matchers: { environment: 'dev' }, startsAt: T0, endsAt: T0 + 20 * DAY, reason: 'a long one', by: 'b' }).id, 3);
    again.prune(T0 + 40 * DAY, 30 * DAY);
    t.same(again.listSilences().map((s) => s.id), [3], 'those over for longer than the retention are pruned');
    again.prune(T0 + 51 * DAY, 30 * DAY);
    t.same(again.listSilences(), []);
  });

  t.test(`${backend.name}: silences: the table refuses a silence that matches everything`, async (t) => {
    const store = await opened(t);
    t.throws(() => store.addSilence({ matchers: {}, startsAt: T0, endsAt: T0 + HOUR, reason: 'r', by: 'b' }), /check constraint/i);
  });

  t.test(`${backend.name}: on-call incidents: one per create message, states only move forward, resolved ones pruned`, async (t) => {
    const store = await opened(t);
    store.recordOncallIncident({ remoteId: '9001', incidentId: 4, outboxId: 11, at: T0 });
    store.recordOncallIncident({ remoteId: '9002', incidentId: 4, outboxId: 11, at: T0 + 1 }); // the same create, recorded again
    store.recordOncallIncident({ remoteId: '9003', incidentId: 4, outboxId: 12, at: T0 + 2 });
    t.same(store.oncallCreatedBy(11), { remoteId: '9001', incidentId: 4, outboxId: 11, createdAt: T0, state: 'open', updatedAt: T0 }, 'the first record of a create is kept');
    t.equal(store.oncallCreatedBy(13), null);
    t.same(store.oncallIncidentsOf(4).map((o) => o.remoteId), ['9001', '9003'], 'oldest first');
    t.equal(store.setOncallState('9001', 'acknowledged', T0 + 10), true);
    t.equal(store.setOncallState('9001', 'acknowledged', T0 + 11), false, 'no change');
    t.equal(store.setOncallState('9001', 'resolved', T0 + 12), true);
    t.equal(store.setOncallState('9001', 'acknowledged', T0 + 13), false, 'never back from resolved');
    t.same(store.activeOncallIncidents().map((o) => [o.remoteId, o.state]), [['9003', 'open']]);
    store.prune(T0 + 100 * DAY, 90 * DAY);
    t.same(store.oncallIncidentsOf(4).map((o) => o.remoteId), ['9003'], 'the resolved one is pruned after the retention');
  });

  t.test(`${backend.name}: maintenance, detected_at and former_roots survive a restart`, async (t) => {
    const place = await fresh(t);
    const kept = makeIncident({
      id: 3,
      rootProbe: 'backend-health',
      rootKey: 'backend-health',
      detectedAt: NOW - 7 * 60_000,
      maintenance: 'production/backend 0 3 * * 0',
      formerRoots: ['db-ready', 'backend-ps:db'],
      symptoms: ['compute-health'],
    });
    const first = place.open();
    first.apply(change({ incidents: [kept], timeline: kept.timeline.map((entry) => ({ incidentId: 3, entry })) }));
    first.close();

    const again = place.open();
    t.teardown(() => again.close());
    const stored = again.getIncident(3);
    t.equal(stored?.detectedAt, NOW - 7 * 60_000, 'detected_at');
    t.equal(stored?.maintenance, 'production/backend 0 3 * * 0', 'maintenance');
    t.same(stored?.formerRoots, ['db-ready', 'backend-ps:db'], 'former_roots, in order');
    t.same(stored?.symptoms, ['compute-health']);
    const resumed = again.loadEngineState(NOW - 600_000).incidents.find((i) => i.id === 3);
    t.match(resumed, { detectedAt: NOW - 7 * 60_000, maintenance: 'production/backend 0 3 * * 0', formerRoots: ['db-ready', 'backend-ps:db'] }, 'and the engine resumes with them');

    // Cleared values are written as cleared, not left behind.
    again.apply(change({ incidents: [{ ...stored!, maintenance: null, formerRoots: [] }] }));
    const cleared = again.getIncident(3);
    t.notOk(cleared?.maintenance, 'maintenance cleared');
    t.same(cleared?.formerRoots ?? [], [], 'former roots cleared');
    t.equal(cleared?.detectedAt, NOW - 7 * 60_000, 'detected_at kept');
  });

  t.test(`${backend.name}: a write-back puts held changes in with their ids, and new ids continue after them`, async (t) => {
    const store = await opened(t, { now: () => T0 });
    const [stored] = store.apply(change({ messages: [message(T0 - 1_000)] }));
    if (!stored) throw new Error('apply returned no message');
    const last = store.lastMessageId();
    t.equal(last, stored.id);
    const row = (id: number, over: Partial<MessageState>): MessageState => ({
      id, sink: 'discord', channel: 'ops', created_at: T0, incident_id: 1, event: 'opened', body: '{"content":"held"}', attempts: 0, unanswered: 0,
      last_error: null, next_attempt_at: T0, state: 'pending', delivered_at: null, dead_at: null, ...over,
    });
    const opened1 = { at: T0, event: 'opened' as const, detail: 'connection refused' };
    store.writeBack({
      incidents: [incident(1, { timeline: [opened1] })],
      subjects: [{ key: 'backend-db-ready', probe: 'backend-db-ready', ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: 1 }],
      timeline: [{ incidentId: 1, entry: opened1 }],
      created: [row(last + 1, { state: 'delivered', delivered_at: T0 + 1 }), row(last + 2, {})],
      updated: [{ ...store.messageState(stored.id)!, state: 'delivered', delivered_at: T0 + 2 }],
    });
    t.strictSame(store.getIncident(1)?.timeline, [opened1], 'the incident and its timeline are in');
    t.match(store.loadEngineState(0).subjects, [{ key: 'backend-db-ready', incidentId: 1 }]);
    t.same(store.pendingMessages(10).map((m) => [m.id, m.body]), [[last + 2, { content: 'held' }]], 'the held message is pending under its id; the delivered ones are not');
    t.match(store.messageState(stored.id), { state: 'delivered' }, 'a delivery made meanwhile is recorded');
    t.equal(store.lastMessageId(), last + 2);
    const [next] = store.apply(change({ messages: [message(T0)] }));
    t.equal(next?.id, last + 3, 'a new message gets the next id, not one handed out while held');
  });
}
