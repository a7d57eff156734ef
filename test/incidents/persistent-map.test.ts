// The engine's persistent map: reads like a Map (insertion order too), and a new version never changes an old one.
import t from 'tap';
import { PersistentMap } from '../../src/incidents/persistent-map.js';

/** A small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.test('thousands of random sets and deletes read exactly as a Map, and every kept version stays as it was', async (t) => {
  const next = random(7);
  const keys: Array<string | number> = [...Array.from({ length: 1500 }, (_, i) => `host:web-${i}`), ...Array.from({ length: 1500 }, (_, i) => i * 7)];
  let map = PersistentMap.empty<string | number, number>();
  const mirror = new Map<string | number, number>();
  const kept: Array<{ version: PersistentMap<string | number, number>; entries: Array<[string | number, number]> }> = [];
  let mismatches = 0;
  for (let op = 0; op < 30_000; op += 1) {
    const key = keys[Math.floor(next() * keys.length)]!;
    // Deletes a third of the time, so the map grows and shrinks and renumbers its order.
    if (next() < 0.35) {
      map = map.without(key);
      mirror.delete(key);
    } else {
      map = map.with(key, op);
      mirror.set(key, op);
    }
    if (map.size !== mirror.size || map.get(key) !== mirror.get(key) || map.has(key) !== mirror.has(key)) mismatches += 1;
    if (op % 3_000 === 0) kept.push({ version: map, entries: [...mirror] });
  }
  t.equal(mismatches, 0, 'size, get and has agree after every operation');
  t.same([...map], [...mirror], 'the same entries in the same order');
  t.same([...map.keys()], [...mirror.keys()]);
  t.same([...map.values()], [...mirror.values()]);
  t.ok(
    keys.every((k) => map.get(k) === mirror.get(k) && map.has(k) === mirror.has(k)),
    'every key, present or not, reads the same',
  );
  for (const { version, entries } of kept) t.same([...version.entries()], entries, `the version of ${entries.length} entries is unchanged`);
});

t.test('a set keeps the key in its place; a key deleted and set again goes last, as in a Map', async (t) => {
  const a = PersistentMap.of([['x', 1], ['y', 2], ['z', 3]] as Array<[string, number]>);
  const b = a.with('x', 10);
  t.same([...b], [['x', 10], ['y', 2], ['z', 3]]);
  const c = b.without('x').with('x', 11);
  t.same([...c], [['y', 2], ['z', 3], ['x', 11]]);
  t.same([...a], [['x', 1], ['y', 2], ['z', 3]], 'the first version is untouched');
  const seen: string[] = [];
  c.forEach((value, key, map) => seen.push(`${key}=${value}${map === c ? '' : '?'}`));
  t.same(seen, ['y=2', 'z=3', 'x=11']);
});

t.test('no change is no new version', async (t) => {
  const value = { n: 1 };
  const a = PersistentMap.of([['k', value]] as Array<[string, { n: number }]>);
  t.equal(a.with('k', value), a, 'the same value again');
  t.equal(a.without('missing'), a, 'deleting an absent key');
  t.equal(PersistentMap.of(a), a, 'already persistent');
  t.not(a.with('k', { n: 1 }), a, 'an equal but new object is a change');
});

t.test('keys whose hashes collide are still told apart', async (t) => {
  // A fractional number hashes as its text with a # before it: the same hash as that string.
  let map = PersistentMap.empty<string | number, string>().with(1.5, 'number').with('#1.5', 'string').with(2.5, 'other');
  t.equal(map.get(1.5), 'number');
  t.equal(map.get('#1.5'), 'string');
  map = map.without(1.5);
  t.equal(map.get(1.5), undefined);
  t.equal(map.get('#1.5'), 'string', 'deleting one leaves the other');
  t.same([...map.keys()], ['#1.5', 2.5]);
});

t.test('deleting most keys renumbers the order and loses nothing', async (t) => {
  let map = PersistentMap.empty<number, number>();
  for (let i = 0; i < 2_000; i += 1) map = map.with(i, i);
  const full = map;
  for (let i = 0; i < 2_000; i += 1) if (i % 10 !== 0) map = map.without(i);
  t.equal(map.size, 200);
  t.same([...map.keys()], Array.from({ length: 200 }, (_, i) => i * 10));
  map = map.with(5, 5);
  t.equal([...map.keys()].at(-1), 5);
  t.equal(full.size, 2_000);
  t.same([...full.keys()], Array.from({ length: 2_000 }, (_, i) => i), 'the full version is untouched');
});

t.test('a walked version walks the same again, and its pairs cannot be changed through a walk', async (t) => {
  const a = PersistentMap.of([['x', 1], ['y', 2]] as Array<[string, number]>);
  t.same([...a.values()], [1, 2]);
  const b = a.with('y', 3).with('z', 4);
  t.same([...b], [['x', 1], ['y', 3], ['z', 4]], 'a new version walks its own entries');
  const pair = [...a][1]!;
  t.throws(() => {
    pair[1] = 99;
  }, TypeError);
  t.same([...a], [['x', 1], ['y', 2]], 'the first version walks as before');
  t.same([...a.keys()], ['x', 'y']);
});
