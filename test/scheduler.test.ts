import { pino } from 'pino';
import t from 'tap';
import { Scheduler, TimeoutError, spreadOffset, type RunFn } from '../src/scheduler.js';
import { waitFor } from './helpers/vigil-process.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Bounds that only catch a hang: a busy 2-core machine may take seconds where an idle one takes milliseconds. */
const HANG_MS = 20_000;

t.test('first runs are spread over the interval by a stable hash of the id', async (t) => {
  const offsets = Array.from({ length: 200 }, (_, i) => spreadOffset(`probe-${i}`, 10_000));
  t.ok(offsets.every((o) => o >= 0 && o < 10_000), 'inside the period');
  t.equal(spreadOffset('probe-7', 10_000), offsets[7], 'the same id lands at the same place');
  const firstHalf = offsets.filter((o) => o < 5_000).length;
  t.ok(firstHalf > 60 && firstHalf < 140, `spread, not bunched (${firstHalf}/200 in the first half)`);
});

t.test('a probe never runs twice at once; a slow run makes the next one skip', async (t) => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const run: RunFn = async () => {
    active++;
    runs++;
    maxActive = Math.max(maxActive, active);
    await sleep(250);
    active--;
  };
  const s = new Scheduler({ concurrency: 10, run, log });
  s.schedule([{ id: 'slow', intervalMs: 50, schedule: null, timeoutMs: 1_000 }]);
  await waitFor(() => runs >= 2 && s.skipped > 0, HANG_MS, () => `${runs} runs, ${s.skipped} skipped`);
  await s.stop();
  t.equal(maxActive, 1, 'at most one run of a probe at a time');
  t.ok(runs >= 2, `it ran repeatedly (${runs})`);
  t.ok(s.skipped > 0, 'due times during a run were skipped');
});

t.test('the global concurrency cap holds and lag is reported', async (t) => {
  let active = 0;
  let maxActive = 0;
  const lags: number[] = [];
  const ran = new Set<string>();
  const run: RunFn = async (id) => {
    active++;
    maxActive = Math.max(maxActive, active);
    ran.add(id);
    await sleep(40);
    active--;
  };
  const s = new Scheduler({ concurrency: 3, run, log, onLag: (l) => lags.push(l) });
  s.schedule(Array.from({ length: 12 }, (_, i) => ({ id: `p${i}`, intervalMs: 100, schedule: null, timeoutMs: 1_000 })));
  t.notOk(s.firstRoundDone());
  await waitFor(() => s.firstRoundDone(), HANG_MS, () => `ran ${[...ran].join(', ')}`);
  await s.stop();
  t.equal(ran.size, 12);
  t.ok(maxActive <= 3, `never more than 3 in flight (saw ${maxActive})`);
  t.ok(lags.length >= 12 && lags.every((l) => l >= 0));
  t.ok(Math.max(...lags) > 0.01, 'queueing behind the cap shows up as lag');
});

t.test('the first round is done when every probe scheduled now has run once, across reloads', async (t) => {
  const release = new Map<string, () => void>();
  const run: RunFn = (id, signal) =>
    new Promise<void>((resolve) => {
      release.set(id, resolve);
      signal.addEventListener('abort', () => resolve());
    });
  const s = new Scheduler({ concurrency: 10, run, log, graceMs: 0 });
  const probe = (id: string, intervalMs = 60_000) => ({ id, intervalMs, schedule: null, timeoutMs: 60_000 });
  t.ok(s.firstRoundDone(), 'nothing scheduled: nothing to wait for');
  s.schedule([probe('a', 1), probe('b', 1), probe('never')]);
  await waitFor(() => release.has('a') && release.has('b'), HANG_MS);
  release.get('a')!();
  t.notOk(s.firstRoundDone(), 'b is still running and "never" has not started');
  // "never" goes without having run; b is dropped mid-run and comes back as a new probe.
  s.schedule([probe('a', 1)]);
  s.schedule([probe('a', 1), probe('b', 60_000)]);
  release.get('b')!();
  await sleep(20);
  t.notOk(s.firstRoundDone(), 'the b scheduled now has not run: the old run does not count for it');
  s.schedule([probe('a', 1)]);
  t.ok(s.firstRoundDone(), 'every probe scheduled now has run');
  await s.stop(0);
});

t.test('the timeout aborts the run through its signal', async (t) => {
  let reason: unknown;
  const run: RunFn = (_id, signal) =>
    new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        reason = signal.reason;
        resolve();
      });
    });
  const s = new Scheduler({ concurrency: 1, run, log });
  s.schedule([{ id: 'hang', intervalMs: 300, schedule: null, timeoutMs: 100 }]);
  // The first run lands somewhere in the period; wait for it with a generous bound.
  await waitFor(() => reason, HANG_MS, () => 'the run was never aborted');
  await s.stop();
  t.ok(reason instanceof TimeoutError, 'aborted with a TimeoutError');
  t.equal((reason as TimeoutError).code, 'VIGIL_ERR_TIMEOUT');
});

t.test('a run that ignores its signal is abandoned and frees its slot', async (t) => {
  const calls: string[] = [];
  const run: RunFn = (id) => {
    calls.push(id);
    return id === 'stuck' ? new Promise<void>(() => {}) : Promise.resolve();
  };
  const s = new Scheduler({ concurrency: 1, run, log, graceMs: 50 });
  s.schedule([
    { id: 'stuck', intervalMs: 300, schedule: null, timeoutMs: 50 },
    { id: 'next', intervalMs: 300, schedule: null, timeoutMs: 50 },
  ]);
  await waitFor(() => calls.includes('next'), HANG_MS, () => `calls: ${calls.join(', ')}`);
  await s.stop(100);
  t.ok(calls.includes('stuck') && calls.includes('next'), 'the other probe still got the only slot');
});

t.test('cron schedules run through node-cron', async (t) => {
  let runs = 0;
  const s = new Scheduler({ concurrency: 1, run: async () => void runs++, log });
  s.schedule([{ id: 'every-second', intervalMs: 1_000, schedule: '* * * * * *', timeoutMs: 500 }]);
  await waitFor(() => runs >= 2, HANG_MS, () => `${runs} runs`);
  await s.stop();
  t.ok(runs >= 2, `ran on its cron schedule (${runs} runs)`);
  const after = runs;
  await sleep(1_200);
  t.equal(runs, after, 'nothing runs after stop');
});

t.test('rescheduling keeps unchanged probes and drops removed ones', async (t) => {
  const seen: string[] = [];
  const s = new Scheduler({ concurrency: 4, run: async (id) => void seen.push(id), log });
  s.schedule([
    { id: 'keep', intervalMs: 100, schedule: null, timeoutMs: 50 },
    { id: 'drop', intervalMs: 100, schedule: null, timeoutMs: 50 },
  ]);
  await waitFor(() => seen.includes('keep') && seen.includes('drop'), HANG_MS, () => `seen: ${seen.join(', ')}`);
  s.schedule([
    { id: 'keep', intervalMs: 100, schedule: null, timeoutMs: 50 },
    { id: 'add', intervalMs: 100, schedule: null, timeoutMs: 50 },
  ]);
  t.equal(s.size, 2);
  seen.length = 0;
  // Several intervals of both: a probe still scheduled every 100 ms would have run meanwhile.
  const count = (id: string) => seen.filter((x) => x === id).length;
  await waitFor(() => count('keep') >= 3 && count('add') >= 3, HANG_MS, () => `seen: ${seen.join(', ')}`);
  await s.stop();
  t.notOk(seen.includes('drop'), 'a removed probe no longer runs');
  t.notOk(s.healthy(), 'a stopped scheduler is not healthy');
});

t.test('stop waits for in-flight runs', async (t) => {
  let started = false;
  let finished = false;
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const s = new Scheduler({
    concurrency: 1,
    log,
    run: async () => {
      started = true;
      await held;
      finished = true;
    },
  });
  s.schedule([{ id: 'a', intervalMs: 20, schedule: null, timeoutMs: 60_000 }]);
  // Stop only once a run is in flight, else there is nothing to wait for.
  await waitFor(() => started, HANG_MS, () => 'no run started');
  let stopped = false;
  const stopping = s.stop(60_000).then(() => (stopped = true));
  await sleep(200);
  t.notOk(stopped, 'stop has not resolved while the run is held');
  release();
  await stopping;
  t.ok(finished, 'the run in flight completed before stop resolved');
});
