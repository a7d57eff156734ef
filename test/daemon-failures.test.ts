// The daemon's failure branches: a store that refuses a probe step or a tick, a scheduler behind, and the heartbeat held back meanwhile.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import type { Config } from '../src/config/types.js';
import type { Store } from '../src/store/store.js';
import { httpTestProbe, testConfig } from './helpers/config.js';
import { startHttpServer } from './helpers/http-servers.js';
import { scriptedRuns, startScriptedDaemon } from './helpers/scripted-daemon.js';
import { tmpDir } from './helpers/tmp.js';
import { waitFor } from './helpers/vigil-process.js';

function probes(dir: string, count: number, extra: Partial<Config> = {}): Config {
  const list = Array.from({ length: count }, (_, i) => ({
    ...httpTestProbe({ id: `p${i}`, severity: 'S1', summary: `Service ${i} down`, url: `http://127.0.0.1:9/${i}` }),
    intervalMs: 300,
    timeoutMs: 60_000,
    failureThreshold: 1,
  }));
  return testConfig({ store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 }, probes: list, ...extra });
}

function capture() {
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'info', base: null }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { log, lines };
}

/** Makes the store refuse every apply() until the returned function is called. */
function refuseWrites(store: Store): () => void {
  const real = store.apply.bind(store);
  store.apply = () => {
    throw new Error('SQLITE_FULL: database or disk is full');
  };
  return () => {
    store.apply = real;
  };
}

t.test('a probe step the store refuses is not taken: no incident in memory, /healthz 503, taken again once it writes', { timeout: 60_000 }, async (t) => {
  const runs = scriptedRuns();
  const { log, lines } = capture();
  const daemon = await startScriptedDaemon(t, runs, probes(tmpDir(t), 1), { log });
  const restore = refuseWrites(daemon.store);
  runs.autoFinish(false);
  await waitFor(() => lines.find((l) => l.msg === 'store write failed: incident changes not recorded'), 20_000, () => 'no store failure logged');
  t.equal(daemon.state.incidents.size, 0, 'the engine state did not move ahead of the store');
  t.equal(daemon.state.subjects.get('p0'), undefined);
  t.equal((await daemon.app.inject({ url: '/healthz' })).statusCode, 503, '/healthz says the store does not write');
  restore();
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 20_000, () => 'no incident once the store wrote again');
  t.equal(daemon.store.getIncident(incident.id)?.state, 'open', 'and it is in the store');
  await waitFor(async () => (await daemon.app.inject({ url: '/healthz' })).statusCode === 200, 20_000, () => '/healthz stayed 503');
});

t.test('a tick the store refuses (a reminder) is attempted again on the next tick', { timeout: 90_000 }, async (t) => {
  const runs = scriptedRuns();
  const { log, lines } = capture();
  const clock = { offset: 0 };
  const daemon = await startScriptedDaemon(t, runs, probes(tmpDir(t), 1), { log, now: () => Date.now() + clock.offset });
  runs.autoFinish(false);
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 20_000, () => 'no incident opened');
  runs.autoFinish(null); // no more runs end: only the tick can change anything now
  await new Promise((r) => setTimeout(r, 500));
  const restore = refuseWrites(daemon.store);
  const failures = () => lines.filter((l) => l.msg === 'store write failed: incident changes not recorded').length;
  clock.offset = 31 * 60_000; // past the S1 response time: the next tick reminds
  await waitFor(() => failures() > 0, 30_000, () => 'the tick never tried to write');
  t.equal(daemon.state.incidents.get(incident.id)?.lastReminderAt, null, 'the reminder was not taken as sent');
  restore();
  await waitFor(() => daemon.state.incidents.get(incident.id)?.lastReminderAt !== null, 30_000, () => 'the reminder was not retried');
  t.ok(daemon.store.getIncident(incident.id)?.timeline.some((e) => e.event === 'reminder'), 'the reminder is in the store');
});

t.test('the heartbeat is withheld while the store does not write or the scheduler is behind, and resumes after', { timeout: 90_000 }, async (t) => {
  let beats = 0;
  const heartbeat = await startHttpServer((req, res) => {
    if (req.method === 'GET' && req.url === '/api/v1/heartbeat/hb-token-0d2a') beats++;
    res.writeHead(200).end('OK');
  });
  t.teardown(() => heartbeat.close());
  const runs = scriptedRuns();
  const { log, lines } = capture();
  const clock = { offset: 0 };
  const base = probes(tmpDir(t), 2);
  const config = testConfig({
    ...base,
    defaults: { ...base.defaults, concurrency: 1 },
    alerts: { ...base.alerts, betterstack: { sourceToken: null, endpoint: 'http://127.0.0.1:9', heartbeatUrl: `${heartbeat.url}/api/v1/heartbeat/hb-token-0d2a`, heartbeatIntervalMs: 200 } },
  });
  const daemon = await startScriptedDaemon(t, runs, config, { log, now: () => Date.now() + clock.offset });
  await waitFor(() => beats >= 2, 20_000, () => 'no heartbeat while healthy');

  // The store stops taking writes: the heartbeat goes quiet so Better Stack pages.
  const ping = daemon.store.ping.bind(daemon.store);
  daemon.store.ping = () => {
    throw new Error('SQLITE_READONLY: attempt to write a readonly database');
  };
  await waitFor(() => lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('heartbeat withheld: the store does not write')), 20_000, () => 'not withheld for the store');
  let before = beats;
  await new Promise((r) => setTimeout(r, 1_000));
  t.equal(beats, before, 'no heartbeat while the store refuses writes');
  daemon.store.ping = ping;
  await waitFor(() => beats > before, 20_000, () => 'the heartbeat did not resume');

  // One probe's run hangs with concurrency 1: the other waits in the queue. A minute on, the scheduler is behind.
  await waitFor(() => runs.calls.length >= 1, 20_000, () => 'no run started');
  clock.offset = 61_000;
  await waitFor(async () => (await daemon.app.inject({ url: '/healthz' })).statusCode === 503, 20_000, () => '/healthz did not notice the backlog');
  await waitFor(() => lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('heartbeat withheld: the scheduler is behind')), 20_000, () => 'not withheld for the scheduler');
  before = beats;
  await new Promise((r) => setTimeout(r, 1_000));
  t.equal(beats, before, 'no heartbeat while the scheduler is behind');
  runs.autoFinish(true);
  for (const call of runs.calls) call.finish(true);
  await waitFor(async () => (await daemon.app.inject({ url: '/healthz' })).statusCode === 200, 20_000, () => '/healthz stayed 503 after the backlog cleared');
  await waitFor(() => beats > before, 20_000, () => 'the heartbeat did not resume after the backlog');
});
