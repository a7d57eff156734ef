// The quorum over replicas' results, with a fake clock: what counts as a failure, and who is cut off.
import t from 'tap';
import { cutOffReplicas, mergeFindings, required, streaks, type ReplicaResult } from '../../src/cluster/quorum.js';

const NOW = 1_800_000_000_000;
const WINDOW = 30_000;
const fail = (key: string, message = `${key} is down`) => ({ key, ok: false, message });
const pass = (key: string) => ({ key, ok: true, message: `${key} is up` });
const run = (replica: string, probe: string, ok: boolean, ageMs = 1_000): ReplicaResult => ({
  replica,
  probe,
  at: NOW - ageMs,
  findings: [ok ? pass(probe) : fail(probe)],
});
const runAt = (replica: string, probe: string, ok: boolean, at: number): ReplicaResult => run(replica, probe, ok, NOW - at);
const verdict = (results: ReplicaResult[], quorum: 1 | 'majority' | 'all') =>
  mergeFindings(results, { now: NOW, windowMs: WINDOW, quorum }).findings.map((f) => f.ok);

t.test('required: 1, a majority, or all of the voters', async (t) => {
  t.same([1, 2, 3, 4, 5].map((n) => required('majority', n)), [1, 2, 2, 3, 3]);
  t.same([1, 2, 3].map((n) => required('all', n)), [1, 2, 3]);
  t.same([1, 2, 3].map((n) => required(1, n)), [1, 1, 1]);
});

t.test('a failure counts once the quorum of the replicas that ran the probe agree', async (t) => {
  const oneOfThree = [run('a', 'web', false), run('b', 'web', true), run('c', 'web', true)];
  const twoOfThree = [run('a', 'web', false), run('b', 'web', false), run('c', 'web', true)];
  t.same(verdict(oneOfThree, 'majority'), [true], 'majority: one of three failing does not count');
  t.same(verdict(twoOfThree, 'majority'), [false], 'majority: two of three does');
  t.same(verdict(oneOfThree, 1), [false], 'quorum 1: any replica\'s failure counts');
  t.same(verdict(twoOfThree, 'all'), [true], 'all: two of three is not enough');
  t.same(verdict([...twoOfThree.slice(0, 2), run('c', 'web', false)], 'all'), [false], 'all: three of three is');
});

t.test('only replicas that ran the probe within the window vote', async (t) => {
  // c saw it pass long ago and has not run it since (it died): a and b decide alone.
  const results = [run('a', 'web', false), run('b', 'web', false, 5_000), run('c', 'web', true, WINDOW + 1)];
  t.same(verdict(results, 'all'), [false], 'the stale pass of c does not block "all"');
  t.equal(mergeFindings(results, { now: NOW, windowMs: WINDOW, quorum: 'all' }).voters, 2);
  // One replica's two runs count once: its latest.
  const twice = [run('a', 'web', true, 20_000), run('a', 'web', false, 1_000), run('b', 'web', true)];
  t.same(verdict(twice, 1), [false], 'the latest run of a replica is its vote');
  t.equal(mergeFindings(twice, { now: NOW, windowMs: WINDOW, quorum: 1 }).voters, 2);
});

t.test('findings are merged key by key; the preferred replica\'s words are kept', async (t) => {
  const results: ReplicaResult[] = [
    { replica: 'a', probe: 'db', at: NOW, findings: [fail('db', 'a: refused'), pass('db:replica')] },
    { replica: 'b', probe: 'db', at: NOW, findings: [fail('db', 'b: refused'), fail('db:replica')] },
    { replica: 'c', probe: 'db', at: NOW, findings: [pass('db')] },
  ];
  const merged = mergeFindings(results, { now: NOW, windowMs: WINDOW, quorum: 'majority', prefer: 'b' }).findings;
  t.same(merged.map((f) => [f.key, f.ok]), [['db', false], ['db:replica', true]]);
  t.equal(merged[0]!.message, 'b: refused', 'the preferred replica speaks for a failure it shares');
  // A key only failing replicas reported, below the quorum: it passes and says why.
  const partial = mergeFindings(
    [
      { replica: 'a', probe: 'h', at: NOW, findings: [fail('host:x')] },
      { replica: 'b', probe: 'h', at: NOW, findings: [pass('h')] },
      { replica: 'c', probe: 'h', at: NOW, findings: [pass('h')] },
    ],
    { now: NOW, windowMs: WINDOW, quorum: 'majority' },
  ).findings;
  t.same(partial.map((f) => [f.key, f.ok]), [['host:x', true], ['h', true]]);
  t.match(partial[0]!.message, /seen by 1 of 3 replicas/);
});

t.test('a replica that alone sees everything fail is cut off; the fleet is not', async (t) => {
  const probes = ['web', 'api', 'db'];
  const alone = probes.flatMap((p) => [run('vigil-b', p, false), run('vigil-a', p, true), run('vigil-c', p, true)]);
  t.same(cutOffReplicas(alone, { now: NOW, windowMs: WINDOW, quorum: 'majority' }), ['vigil-b']);
  // All three see the same outage: nobody is cut off, the outage is real.
  const outage = probes.flatMap((p) => ['vigil-a', 'vigil-b', 'vigil-c'].map((r) => run(r, p, false)));
  t.same(cutOffReplicas(outage, { now: NOW, windowMs: WINDOW, quorum: 'majority' }), []);
  // b fails only some of what it runs: a flaky path, not a cut-off replica.
  const some = probes.flatMap((p) => [run('vigil-b', p, p !== 'db'), run('vigil-a', p, true), run('vigil-c', p, true)]);
  t.same(cutOffReplicas(some, { now: NOW, windowMs: WINDOW, quorum: 'majority' }), []);
  // One probe is too little to say a replica is cut off.
  t.same(cutOffReplicas(alone.filter((r) => r.probe === 'web'), { now: NOW, windowMs: WINDOW, quorum: 'majority' }), []);
  // A replica alone in the cluster has nobody to be contradicted by.
  t.same(cutOffReplicas(alone.filter((r) => r.replica === 'vigil-b'), { now: NOW, windowMs: WINDOW, quorum: 'majority' }), []);
  // The first to see a real outage: the others' passing runs are older than its failing ones, so
  // nothing contradicts it yet; once they have run again and still pass, it is cut off.
  const first = probes.flatMap((p) => [run('vigil-b', p, false, 0), run('vigil-a', p, true, 1_000), run('vigil-c', p, true, 1_000)]);
  const seen = streaks(new Map(), first);
  t.same(cutOffReplicas(first, { now: NOW, windowMs: WINDOW, quorum: 'majority', streaks: seen }), [], 'not cut off before anyone looked again');
  const later = first.map((r) => (r.replica === 'vigil-a' ? { ...r, at: NOW + 500 } : r));
  const opts = { now: NOW + 500, windowMs: WINDOW, quorum: 'majority' as const };
  t.same(cutOffReplicas(later, { ...opts, streaks: streaks(seen, later) }), ['vigil-b'], 'cut off once another replica, passing since before, looked again and still saw the probes pass');
  t.same(cutOffReplicas(later, opts), [], 'without the streaks, a pass after its latest failure does not say they overlapped');
});

t.test('after an outage of the whole fleet, the last replica to run the probes again is not cut off', async (t) => {
  // The leader looks every second; the probes run every 10 s, each replica at its own phase.
  const probes = ['web', 'api'];
  const opts = (now: number) => ({ now, windowMs: WINDOW, quorum: 'majority' as const });
  const outage = probes.flatMap((p) => [runAt('vigil-a', p, false, NOW - 3_000), runAt('vigil-b', p, false, NOW - 1_000), runAt('vigil-c', p, false, NOW - 2_000)]);
  let seen = streaks(new Map(), outage);
  t.same(cutOffReplicas(outage, { ...opts(NOW), streaks: seen }), [], 'during the outage nobody is');
  // The fleet is back: a and c run again and pass; b's latest runs are still from the outage.
  const recovering = outage.map((r) => (r.replica === 'vigil-b' ? r : { ...r, at: NOW + 7_000, findings: [pass(r.probe)] }));
  seen = streaks(seen, recovering);
  t.same(cutOffReplicas(recovering, { ...opts(NOW + 7_500), streaks: seen }), [], "b's failures are older than the others' passes: not cut off");
  // b runs again: if it passes it is back with the fleet; if it still fails, it is cut off.
  const rerun = (ok: boolean) => recovering.map((r) => (r.replica === 'vigil-b' ? { ...r, at: NOW + 9_000, findings: [ok ? pass(r.probe) : fail(r.probe)] } : r));
  t.same(cutOffReplicas(rerun(true), { ...opts(NOW + 9_500), streaks: streaks(seen, rerun(true)) }), [], 'b passes too');
  t.same(cutOffReplicas(rerun(false), { ...opts(NOW + 9_500), streaks: streaks(seen, rerun(false)) }), ['vigil-b'], 'b fails while the others pass: cut off');
});

t.test('replicas probing at their own phase: a cut-off replica is contradicted by runs after it began failing', async (t) => {
  const probes = ['web', 'api'];
  // Each probes every second; vigil-b's latest failing run is newer than the others' latest passing
  // ones, as at every judgement that falls between their runs and its next.
  const look = (at: number) => probes.flatMap((p) => [runAt('vigil-b', p, false, at - 100), runAt('vigil-a', p, true, at - 300), runAt('vigil-c', p, true, at - 250)]);
  const opts = { now: NOW, windowMs: WINDOW, quorum: 'majority' as const };
  t.same(cutOffReplicas(look(NOW), opts), [], 'by its latest run alone, nothing contradicts it');
  // The leader's earlier look saw it failing already, and the others passing: their streaks overlap.
  let seen = streaks(new Map(), look(NOW - 1_000));
  seen = streaks(seen, look(NOW));
  t.same(cutOffReplicas(look(NOW), { ...opts, streaks: seen }), ['vigil-b'], 'failing since the earlier look, contradicted since');
  // The first look at a real outage: b failed first, nobody looked after; the streak starts now.
  const first = streaks(new Map(), look(NOW));
  t.same(cutOffReplicas(look(NOW), { ...opts, streaks: first }), [], 'the first look at a failing run contradicts nothing');
});

t.test('streaks: start at the first run seen with their outcome, end with the other', async (t) => {
  const F = (since: number) => ({ failing: true, since });
  const P = (since: number) => ({ failing: false, since });
  const a1 = streaks(new Map(), [runAt('a', 'web', false, NOW), runAt('b', 'web', true, NOW)]);
  t.same([...a1], [['a\u0000web', F(NOW)], ['b\u0000web', P(NOW)]], 'a failing run starts a failing streak, a passing one a passing streak');
  const a2 = streaks(a1, [runAt('a', 'web', false, NOW + 1_000), runAt('b', 'web', false, NOW + 1_000)]);
  t.same([...a2], [['a\u0000web', F(NOW)], ['b\u0000web', F(NOW + 1_000)]], "a's streak keeps its start; b's passing one ends and a failing one begins");
  const a3 = streaks(a2, [runAt('a', 'web', true, NOW + 2_000)]);
  t.same([...a3], [['a\u0000web', P(NOW + 2_000)]], 'a pass ends a failing streak, and a replica whose run expired drops out');
  const a4 = streaks(new Map([['a\u0000web', F(NOW + 5_000)]]), [runAt('a', 'web', false, NOW)]);
  t.same([...a4], [['a\u0000web', F(NOW)]], 'a start later than the run itself (a clock step) is not kept');
});

t.test('replica findings: the cut-off replica fails, naming what it cannot reach; the others pass', async (t) => {
  const { replicaFindings } = await import('../../src/cluster/replica-probe.js');
  const probes = ['web', 'api', 'db'];
  const results = probes.flatMap((p) => [run('vigil-b', p, false), run('vigil-a', p, true), run('vigil-c', p, true)]);
  const findings = replicaFindings(['vigil-a', 'vigil-b', 'vigil-c'], results, { now: NOW, windowMs: WINDOW, quorum: 'majority' });
  t.same(findings.map((f) => [f.key, f.ok]), [['vigil:cluster:vigil-a', true], ['vigil:cluster:vigil-b', false], ['vigil:cluster:vigil-c', true]]);
  t.match(findings[1]!.message, /^vigil replica vigil-b cannot reach api, db, web/);
});
