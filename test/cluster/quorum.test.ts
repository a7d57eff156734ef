// The quorum over replicas' results, with a fake clock: what counts as a failure, and who is cut off.
import t from 'tap';
import { cutOffReplicas, failingStreaks, mergeFindings, required, type ReplicaResult } from '../../src/cluster/quorum.js';

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
  t.same(cutOffReplicas(first, { now: NOW, windowMs: WINDOW, quorum: 'majority' }), [], 'not cut off before anyone looked again');
  const later = first.map((r) => (r.replica === 'vigil-a' ? { ...r, at: NOW + 500 } : r));
  t.same(cutOffReplicas(later, { now: NOW + 500, windowMs: WINDOW, quorum: 'majority' }), ['vigil-b'], 'cut off once another replica looked after it and saw the probes pass');
});

t.test('replicas probing at their own phase: a cut-off replica is contradicted by runs after it began failing', async (t) => {
  const probes = ['web', 'api'];
  // Each probes every second; vigil-b's latest failing run is newer than the others' latest passing
  // ones, as at every judgement that falls between their runs and its next.
  const look = (at: number) => probes.flatMap((p) => [runAt('vigil-b', p, false, at - 100), runAt('vigil-a', p, true, at - 300), runAt('vigil-c', p, true, at - 250)]);
  const opts = { now: NOW, windowMs: WINDOW, quorum: 'majority' as const };
  t.same(cutOffReplicas(look(NOW), opts), [], 'by its latest run alone, nothing contradicts it');
  // The leader's earlier look saw it failing already: the others' passing runs came after that.
  let since = failingStreaks(new Map(), look(NOW - 1_000));
  since = failingStreaks(since, look(NOW));
  t.same(cutOffReplicas(look(NOW), { ...opts, failingSince: since }), ['vigil-b'], 'failing since the earlier look, contradicted since');
  // The first look at a real outage: b failed first, nobody looked after; the streak starts now.
  const first = failingStreaks(new Map(), look(NOW));
  t.same(cutOffReplicas(look(NOW), { ...opts, failingSince: first }), [], 'the first look at a failing run contradicts nothing');
});

t.test('failing streaks: start at the first failing run seen, end with a passing one', async (t) => {
  const a1 = failingStreaks(new Map(), [runAt('a', 'web', false, NOW), runAt('b', 'web', true, NOW)]);
  t.same([...a1], [['a\u0000web', NOW]], 'a failing run starts a streak; a passing one does not');
  const a2 = failingStreaks(a1, [runAt('a', 'web', false, NOW + 1_000), runAt('b', 'web', false, NOW + 1_000)]);
  t.same([...a2], [['a\u0000web', NOW], ['b\u0000web', NOW + 1_000]], "a's streak keeps its start; b's begins");
  const a3 = failingStreaks(a2, [runAt('a', 'web', true, NOW + 2_000)]);
  t.same([...a3], [], 'a pass ends it, and a replica whose run expired drops out');
  const a4 = failingStreaks(new Map([['a\u0000web', NOW + 5_000]]), [runAt('a', 'web', false, NOW)]);
  t.same([...a4], [['a\u0000web', NOW]], 'a start later than the run itself (a clock step) is not kept');
});

t.test('replica findings: the cut-off replica fails, naming what it cannot reach; the others pass', async (t) => {
  const { replicaFindings } = await import('../../src/cluster/replica-probe.js');
  const probes = ['web', 'api', 'db'];
  const results = probes.flatMap((p) => [run('vigil-b', p, false), run('vigil-a', p, true), run('vigil-c', p, true)]);
  const findings = replicaFindings(['vigil-a', 'vigil-b', 'vigil-c'], results, { now: NOW, windowMs: WINDOW, quorum: 'majority' });
  t.same(findings.map((f) => [f.key, f.ok]), [['vigil:cluster:vigil-a', true], ['vigil:cluster:vigil-b', false], ['vigil:cluster:vigil-c', true]]);
  t.match(findings[1]!.message, /^vigil replica vigil-b cannot reach api, db, web/);
});
