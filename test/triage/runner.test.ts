// Holding an incident's first messages for triage and releasing them with the summary: real SQLite, real engine, a fake SSH host.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { command, initialState, step } from '../../src/incidents/engine.js';
import type { EngineState, EvidenceCommand } from '../../src/incidents/state.js';
import { route } from '../../src/notify/route.js';
import { openStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { NewMessage } from '../../src/store/store.js';
import { createTransports } from '../../src/transport/index.js';
import { loadConfigText } from '../../src/config/load.js';
import { startsTriage, TRIAGE_HOLD_MS, TriageRunner, waitsForTriage, withTriage } from '../../src/triage/runner.js';
import type { TriageStep } from '../../src/triage/plan.js';
import { config as engineConfig, fail, meta } from '../incidents/fixtures.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { tmpDir, type HasTeardown } from '../helpers/tmp.js';

const log = pino({ enabled: false });
const CHANNELS = { discord: { errors: true, warnings: true, ops: true } };
const PS: TriageStep = { kind: 'compose_ps', host: 'app-1', source: 'compose-ps:app-1' };
const cfg = engineConfig([meta('prod-db-ready', { type: 'pg_ready', service: 'db', failureThreshold: 1 })]);

/** An incident opened by the real engine and written like the daemon does: #ops due now, #errors held. */
function openIncident(store: SqliteStore): { state: EngineState; incidentId: number; held: number[]; ops: number } {
  const now = Date.now();
  const result = step(initialState(), { probe: 'prod-db-ready', findings: [fail('prod-db-ready')] }, now, cfg);
  const opened = result.events.find(startsTriage)!;
  const messages = route(opened, CHANNELS).map((m): NewMessage => ({
    ...m,
    createdAt: now,
    incidentId: opened.incidentId,
    event: opened.type,
    ...(waitsForTriage(m) ? { holdUntil: now + TRIAGE_HOLD_MS } : {}),
  }));
  const stored = store.apply({ ...result.changed, messages, events: result.events });
  return {
    state: result.state,
    incidentId: opened.incidentId,
    held: stored.filter((m) => m.channel === 'errors').map((m) => m.id),
    ops: stored.find((m) => m.channel === 'ops')!.id,
  };
}

async function rig(t: HasTeardown, budgetMs: number) {
  const host = await startSshServer(t);
  host.reply = () => ({ hang: true });
  const yaml = `
environments: { production: {} }
hosts:
  app-1: { environment: production, address: 127.0.0.1, port: ${host.port}, user: vigil, private_key_env: KEY, host_key: "${host.hostKeyLine}", compose_dir: /srv/app }
probes: []
`;
  const transports = createTransports(loadConfigText(yaml, 'runner-test.yaml', { KEY: host.clientKey.private }), log);
  t.teardown(() => transports.close());
  const path = join(tmpDir(t), 'vigil.db');
  const store = openStore(path);
  t.teardown(() => store.close());
  const opened = openIncident(store);
  let state = opened.state;
  const kicks: number[] = [];
  const runner = new TriageRunner({
    transports,
    store,
    log,
    budgetMs,
    kick: () => kicks.push(Date.now()),
    // The engine's own command, committed as the daemon commits it.
    record: (cmd: EvidenceCommand) => {
      const result = command(state, cmd, Date.now(), cfg);
      if (result.ok) {
        store.apply({ ...result.changed, messages: [], events: result.events });
        state = result.state;
      }
      return result;
    },
  });
  return { store, path, runner, kicks, ...opened };
}

t.test('a step hanging past the budget does not hold the page longer than the budget', async (t) => {
  const { store, runner, kicks, incidentId, held, ops } = await rig(t, 800);
  t.same(store.pendingMessages(10).map((m) => m.id), [ops], 'only #ops is due while triage runs');
  const started = Date.now();
  runner.start(incidentId, [PS], held);
  await runner.idle();
  const took = Date.now() - started;
  t.ok(took < 4_000, `released after ${took} ms (budget 800 ms), long before the hold time`);
  t.equal(kicks.length, 1, 'the outbox was told');
  const due = store.pendingMessages(10);
  t.same(due.map((m) => m.id).sort(), [ops, ...held].sort(), 'the held #errors message is due now');
  const body = due.find((m) => m.id === held[0])!.body as { type: string; triage: string };
  t.equal(body.type, 'opened', 'still the event');
  // Cut off by its own timeout or by the budget (they are equal here), whichever fires first.
  t.match(body.triage, /^✗ docker compose ps on app-1 did not finish within (800ms|1s)/, 'with the summary of what triage saw');
  t.match(store.getIncident(incidentId)!.evidence, [{ source: 'prod-db-ready' }, { source: 'compose-ps:app-1', text: /did not finish/ }], 'evidence recorded through the engine');
});

t.test('stopped mid-triage: nothing written, and the held page still goes out at its hold time (as after a crash)', async (t) => {
  const { store, path, runner, incidentId, held } = await rig(t, 20_000);
  runner.start(incidentId, [PS], held);
  await new Promise((r) => setTimeout(r, 200));
  await runner.stop();
  t.equal(store.getIncident(incidentId)!.evidence.length, 1, 'no triage evidence written');
  t.notOk(store.pendingMessages(10).some((m) => held.includes(m.id)), 'the #errors message is still held');
  runner.start(incidentId, [PS], held);
  t.resolves(runner.idle(), 'a stopped runner starts nothing');
  store.close();

  const later = openStore(path, { now: () => Date.now() + TRIAGE_HOLD_MS + 1_000 });
  t.teardown(() => later.close());
  const due = later.pendingMessages(10).filter((m) => held.includes(m.id));
  t.equal(due.length, 1, 'due at its hold time, exactly once');
  t.notOk('triage' in (due[0]!.body as object), 'without a summary');
});

t.test('a held message holds back its channel; release rewrites only messages never attempted', async (t) => {
  const store = openStore(join(tmpDir(t), 'vigil.db'));
  t.teardown(() => store.close());
  const now = Date.now();
  const msg = (channel: string, holdUntil?: number): NewMessage => ({ sink: 'discord', channel, createdAt: now, incidentId: 1, event: 'opened', body: { n: channel }, ...(holdUntil ? { holdUntil } : {}) });
  const [held, after, other, tried] = store.apply({ subjects: [], incidents: [], timeline: [], events: [], messages: [msg('errors', now + 60_000), msg('errors'), msg('ops'), msg('warnings')] });
  t.same(store.pendingMessages(10).map((m) => m.id), [other!.id, tried!.id], 'the later #errors message waits behind the held one');
  store.markFailed(tried!.id, 'boom', now - 1);
  t.equal(store.releaseMessages([tried!.id], now, (b) => withTriage(b, 'x')), 0, 'a message already attempted is left as it is');
  t.equal(store.releaseMessages([held!.id, after!.id], now, (b) => withTriage(b, 'summary')), 2);
  const due = store.pendingMessages(10);
  t.same(due.map((m) => m.id), [held!.id, after!.id, other!.id, tried!.id], 'the channel flows again, in order');
  t.same(due[0]!.body, { n: 'errors', triage: 'summary' });
  t.same(due.find((m) => m.id === tried!.id)!.body, { n: 'warnings' });
  store.markDelivered(held!.id, now);
  t.equal(store.releaseMessages([held!.id], now, (b) => withTriage(b, 'late')), 0, 'a delivered message is never rewritten');
});

t.test('which events start triage and which deliveries wait for it', async (t) => {
  t.ok(startsTriage({ type: 'opened' }) && startsTriage({ type: 'reopened' }) && startsTriage({ type: 'handed_over' }));
  t.notOk(startsTriage({ type: 'opened', held: true }), 'not inside a maintenance window');
  t.notOk(startsTriage({ type: 'escalated' }) || startsTriage({ type: 'resolved' }));
  t.notOk(waitsForTriage({ sink: 'discord', channel: 'ops' }), '#ops goes out at once, in its exact wording');
  t.ok(waitsForTriage({ sink: 'discord', channel: 'errors' }) && waitsForTriage({ sink: 'discord', channel: 'warnings' }) && waitsForTriage({ sink: 'console', channel: 'ops' }));
  t.same(withTriage({ a: 1 }, ''), { a: 1 }, 'an empty summary changes nothing');
  t.equal(withTriage(null, 'x'), null);
});
