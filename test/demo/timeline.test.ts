// The demo's fault schedule: which faults are on when, at any speed, and the promises the banner makes.
import t from 'tap';
import { DemoError } from '../../src/demo/errors.js';
import { activeFaults, DEMO_TIMELINE, describeTimeline, FAULT_KINDS, formatOffset, parseSpeed, positionInCycle } from '../../src/demo/timeline.js';

const S = 1_000;
const on = (ms: number, speed = 1) => [...activeFaults(DEMO_TIMELINE, ms, speed)].sort();

t.test('faults are on from their start until their end, and the schedule repeats', async (t) => {
  t.same(on(0), [], 'nothing is broken at the start');
  t.same(on(9.9 * S), []);
  t.same(on(10 * S), ['compute_500'], 'compute answers 500 at t+10s');
  t.same(on(34.9 * S), ['compute_500']);
  t.same(on(35 * S), [], 'and recovers after 25 s');
  t.same(on(50 * S), ['db_stopped']);
  t.same(on(100 * S), ['long_query']);
  t.same(on(125 * S), ['long_query', 'worker_unhealthy']);
  t.same(on(150 * S), []);
  t.same(on(160 * S), ['queue_stuck'], 'the Celery queue stops draining at t+2:35');
  t.same(on(240 * S), ['backup_late'], 'backups go missing at t+3:50');
  t.same(on(280 * S), [], 'all is well at the end of the cycle');
  t.same(on(DEMO_TIMELINE.cycleMs + 10 * S), ['compute_500'], 'the next cycle starts over');
});

t.test('speed compresses the schedule', async (t) => {
  t.same(on(1 * S, 10), ['compute_500'], 't+10s becomes t+1s at speed 10');
  t.same(on(3.6 * S, 10), []);
  t.equal(positionInCycle(DEMO_TIMELINE, 29.5 * S, 10), 5 * S, 'wraps at cycle / speed');
  t.equal(formatOffset(95 * S), '1:35');
});

t.test('the schedule keeps the promises of the brief', async (t) => {
  const { faults, cycleMs } = DEMO_TIMELINE;
  t.same(faults.map((f) => f.kind).sort(), [...FAULT_KINDS].sort(), 'every kind of fault happens once');
  for (const f of faults) t.ok(f.atMs + f.durationMs < cycleMs, `${f.kind} ends within the cycle`);
  // Probes every 5 s, 2 failures open and 2 passes resolve; 15 s of slack for spreading and PostgreSQL.
  const first = [...faults].sort((a, b) => a.atMs - b.atMs)[0]!;
  t.ok(first.atMs + first.durationMs + 2 * 5 * S + 15 * S <= 120 * S, 'the first incident opens and resolves within 2 minutes');
  t.ok(first.atMs + 2 * 5 * S < 60 * S, 'and opens within the first minute');
  t.ok(faults.every((f) => f.atMs + f.durationMs <= cycleMs - 20 * S), 'every fault is over 20 s before the cycle repeats, so its incident can resolve');
  const late = faults.filter((f) => f.kind === 'queue_stuck' || f.kind === 'backup_late');
  for (const f of late) {
    for (const other of faults.filter((o) => o !== f)) {
      t.ok(other.atMs + other.durationMs <= f.atMs || f.atMs + f.durationMs <= other.atMs, `${f.kind} reads alone (not during ${other.kind})`);
    }
  }
  for (let ms = 0; ms < cycleMs; ms += 250) {
    const now = activeFaults(DEMO_TIMELINE, ms);
    if (now.has('db_stopped') && now.has('long_query')) t.fail(`a long query cannot run while the database is stopped (t=${ms} ms)`);
  }
  const db = faults.find((f) => f.kind === 'db_stopped')!;
  const query = faults.find((f) => f.kind === 'long_query')!;
  t.ok(query.atMs >= db.atMs + db.durationMs + 2 * 5 * S, 'the long query waits until the database incident could resolve, so it is not handed over');
});

t.test('the banner tells when each fault comes and what vigil should do', async (t) => {
  const lines = describeTimeline(DEMO_TIMELINE);
  t.equal(lines.length, DEMO_TIMELINE.faults.length + 1);
  t.match(lines[0], /^t\+0:10 {2}the compute API answers 500 .* for 25s +→ S2 incident on production; S3 on staging/);
  t.match(lines.at(-1), /repeats at t\+4:50/);
  t.match(describeTimeline(DEMO_TIMELINE, 10)[1], /^t\+0:04 {2}PostgreSQL is stopped for 4\.5s/);
});

t.test('parseSpeed takes 0.25 to 20 and refuses the rest with a DemoError', async (t) => {
  t.equal(parseSpeed(undefined), 1);
  t.equal(parseSpeed(''), 1);
  t.equal(parseSpeed('10'), 10);
  t.equal(parseSpeed('0.5'), 0.5);
  for (const bad of ['0', '21', 'fast', '-2', '1e3', 'Infinity']) {
    t.throws(() => parseSpeed(bad), { name: 'DemoError', code: 'VIGIL_ERR_DEMO' }, `refuses ${bad}`);
  }
  t.ok(new DemoError('x') instanceof Error);
});
