// Shard mode's rendezvous hashing: every probe has one owner, shares are balanced, and a replica
// leaving moves only the probes it owned.
import t from 'tap';
import { ownerOf, shareOf } from '../../src/cluster/rendezvous.js';

const probes = Array.from({ length: 3_000 }, (_, i) => `probe-${i}`);
const three = ['vigil-a', 'vigil-b', 'vigil-c'];

t.test('every probe has exactly one owner, the same whatever the order of the members', async (t) => {
  const shares = three.map((m) => shareOf(m, probes, three));
  t.equal(shares.reduce((n, s) => n + s.length, 0), probes.length, 'the shares cover every probe once');
  t.equal(new Set(shares.flat()).size, probes.length, 'no probe in two shares');
  const reversed = [...three].reverse();
  t.ok(probes.every((p) => ownerOf(p, three) === ownerOf(p, reversed)), 'the owner does not depend on member order');
  t.equal(ownerOf('x', []), null, 'no members, no owner');
});

t.test('the shares are balanced', async (t) => {
  for (const m of three) {
    const n = shareOf(m, probes, three).length;
    // A third is 1,000; a fair hash stays well within ±10 %.
    t.ok(n > 900 && n < 1_100, `${m} runs ${n} of ${probes.length}`);
  }
});

t.test('a member leaving moves only its own probes; one joining takes only from others what it owns', async (t) => {
  const before = new Map(probes.map((p) => [p, ownerOf(p, three)]));
  const two = ['vigil-a', 'vigil-c'];
  let moved = 0;
  for (const p of probes) {
    const now = ownerOf(p, two);
    if (now !== before.get(p)) {
      moved++;
      t.equal(before.get(p), 'vigil-b', `${p} moved although its owner stayed`);
    }
  }
  t.equal(moved, shareOf('vigil-b', probes, three).length, 'exactly the leaver\'s probes moved');
  const four = [...three, 'vigil-d'];
  const taken = probes.filter((p) => ownerOf(p, four) !== before.get(p));
  t.ok(taken.every((p) => ownerOf(p, four) === 'vigil-d'), 'a joiner only takes probes for itself');
  t.ok(taken.length > 600 && taken.length < 900, `and about a quarter of them (${taken.length})`);
});
