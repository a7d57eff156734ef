// An immutable map read like a Map (insertion order kept): a changed version shares every entry and node it did not touch.

type Key = string | number;

/** One entry of a version, in the order index. Never changed once made. */
interface Entry<K, V> {
  readonly key: K;
  readonly value: V;
}

/** Where a key sits in the order index. Stays the same while the key is in the map, so a changed value leaves the hash trie alone. */
class Slot<K> {
  constructor(
    readonly key: K,
    readonly hash: number,
    readonly seq: number,
  ) {}
}

/** A hash trie node: a child per set bit of `bitmap` (32-way, 5 bits of the hash per level). */
class Branch<K> {
  constructor(
    readonly bitmap: number,
    readonly children: ReadonlyArray<Child<K>>,
  ) {}
}

/** Keys whose 32-bit hashes are equal. */
class Collision<K> {
  constructor(
    readonly hash: number,
    readonly slots: ReadonlyArray<Slot<K>>,
  ) {}
}

type Child<K> = Slot<K> | Branch<K> | Collision<K>;

/** The order index: a 32-way trie by insertion number; holes where keys were deleted. */
type OrderNode<K, V> = ReadonlyArray<OrderNode<K, V> | Entry<K, V> | undefined>;

const BITS = 5;
const MASK = 31;

function hashOf(key: Key): number {
  if (typeof key === 'number' && Number.isInteger(key) && Math.abs(key) <= 0x7fffffff) {
    let h = key | 0;
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return (h ^ (h >>> 16)) | 0;
  }
  const text = typeof key === 'number' ? `#${key}` : key;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

function popcount(n: number): number {
  let x = n - ((n >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63;
}

function find<K>(node: Child<K> | undefined, key: K, hash: number, shift: number): Slot<K> | undefined {
  while (node !== undefined) {
    if (node instanceof Slot) return node.key === key ? node : undefined;
    if (node instanceof Collision) return node.hash === hash ? node.slots.find((s) => s.key === key) : undefined;
    const bit = 1 << ((hash >>> shift) & MASK);
    if ((node.bitmap & bit) === 0) return undefined;
    node = node.children[popcount(node.bitmap & (bit - 1))];
    shift += BITS;
  }
  return undefined;
}

function hashOfChild<K>(child: Slot<K> | Collision<K>): number {
  return child.hash;
}

/** Two children that fell into the same place: a branch (or a chain of them) that tells them apart. */
function merge<K>(a: Slot<K> | Collision<K>, b: Slot<K>, shift: number): Child<K> {
  const ha = hashOfChild(a);
  if (ha === b.hash) return new Collision(ha, a instanceof Collision ? [...a.slots, b] : [a, b]);
  const ia = (ha >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return new Branch(1 << ia, [merge(a, b, shift + BITS)]);
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a]);
}

/** `slot`'s key must not be in the trie yet. */
function insert<K>(node: Branch<K>, slot: Slot<K>, shift: number): Branch<K> {
  const bit = 1 << ((slot.hash >>> shift) & MASK);
  const index = popcount(node.bitmap & (bit - 1));
  if ((node.bitmap & bit) === 0) {
    const children = [...node.children];
    children.splice(index, 0, slot);
    return new Branch(node.bitmap | bit, children);
  }
  const child = node.children[index]!;
  const next = child instanceof Branch ? insert(child, slot, shift + BITS) : merge(child, slot, shift + BITS);
  const children = [...node.children];
  children[index] = next;
  return new Branch(node.bitmap, children);
}

/** The trie without `key`; the very same node when it was not there, undefined when nothing is left. */
function remove<K>(node: Branch<K>, key: K, hash: number, shift: number): Branch<K> | undefined {
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return node;
  const index = popcount(node.bitmap & (bit - 1));
  const child = node.children[index]!;
  let next: Child<K> | undefined;
  if (child instanceof Slot) {
    if (child.key !== key) return node;
    next = undefined;
  } else if (child instanceof Collision) {
    const slots = child.slots.filter((s) => s.key !== key);
    if (slots.length === child.slots.length) return node;
    next = slots.length === 1 ? slots[0]! : new Collision(child.hash, slots);
  } else {
    next = remove(child, key, hash, shift + BITS);
    if (next === child) return node;
  }
  const children = [...node.children];
  if (next !== undefined) {
    children[index] = next;
    return new Branch(node.bitmap, children);
  }
  children.splice(index, 1);
  return children.length === 0 ? undefined : new Branch(node.bitmap & ~bit, children);
}

function orderGet<K, V>(root: OrderNode<K, V> | undefined, shift: number, seq: number): Entry<K, V> | undefined {
  let node = root;
  for (let s = shift; node !== undefined && s > 0; s -= BITS) node = node[Math.floor(seq / 2 ** s) & MASK] as OrderNode<K, V> | undefined;
  return node?.[seq & MASK] as Entry<K, V> | undefined;
}

function orderSet<K, V>(node: OrderNode<K, V> | undefined, shift: number, seq: number, entry: Entry<K, V> | undefined): OrderNode<K, V> | undefined {
  const index = Math.floor(seq / 2 ** shift) & MASK;
  const copy = node === undefined ? [] : node.slice();
  copy[index] = shift === 0 ? entry : orderSet(node?.[index] as OrderNode<K, V> | undefined, shift - BITS, seq, entry);
  return copy.every((c) => c === undefined) ? undefined : copy;
}

function flatten<K, V>(node: OrderNode<K, V> | undefined, shift: number, into: Array<Entry<K, V>>): Array<Entry<K, V>> {
  if (node === undefined) return into;
  for (const child of node) {
    if (child === undefined) continue;
    if (shift === 0) into.push(child as Entry<K, V>);
    else flatten(child as OrderNode<K, V>, shift - BITS, into);
  }
  return into;
}

/**
 * Reads like a ReadonlyMap; `with` and `without` return a new version and leave this one as it was.
 * A change copies one path of each trie (a few small arrays), never the map: what the engine needs
 * so a step over a large fleet costs what it changes. Keys are compared with ===.
 */
export class PersistentMap<K extends Key, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly keyIndex: Branch<K> | undefined,
    private readonly order: OrderNode<K, V> | undefined,
    /** The order trie's top shift: capacity is 32 × 2^shift insertion numbers. */
    private readonly shift: number,
    private readonly nextSeq: number,
    readonly size: number,
  ) {}

  // What a walk reads, made on the first walk of this version, so walking it again (a page per
  // request) costs what walking a Map does. Never handed out: only iterators over them.
  #flat: ReadonlyArray<Entry<K, V>> | undefined;
  #pairs: ReadonlyArray<[K, V]> | undefined;
  #keys: readonly K[] | undefined;
  #values: readonly V[] | undefined;

  #all(): ReadonlyArray<Entry<K, V>> {
    return (this.#flat ??= flatten(this.order, this.shift, []));
  }

  static empty<K extends Key, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>(undefined, undefined, 0, 0, 0);
  }

  /** `map` itself when it already is one; else its entries, in its order. */
  static of<K extends Key, V>(map: ReadonlyMap<K, V> | Iterable<readonly [K, V]>): PersistentMap<K, V> {
    if (map instanceof PersistentMap) return map as PersistentMap<K, V>;
    let built = PersistentMap.empty<K, V>();
    for (const [key, value] of map) built = built.with(key, value);
    return built;
  }

  get(key: K): V | undefined {
    const slot = find(this.keyIndex, key, hashOf(key), 0);
    return slot === undefined ? undefined : orderGet(this.order, this.shift, slot.seq)!.value;
  }

  has(key: K): boolean {
    return find(this.keyIndex, key, hashOf(key), 0) !== undefined;
  }

  /** Sorts keys of this map into its iteration order; keys it does not hold go last. */
  inOrder(keys: Iterable<K>): K[] {
    const seq = (key: K): number => find(this.keyIndex, key, hashOf(key), 0)?.seq ?? Infinity;
    return [...keys].map((key) => ({ key, at: seq(key) })).sort((a, b) => a.at - b.at).map((k) => k.key);
  }

  /** This map with `key` set to `value` (in its old place if it was there); this very map when it already held that value. */
  with(key: K, value: V): PersistentMap<K, V> {
    const hash = hashOf(key);
    const slot = find(this.keyIndex, key, hash, 0);
    if (slot !== undefined) {
      if (orderGet(this.order, this.shift, slot.seq)!.value === value) return this;
      return new PersistentMap(this.keyIndex, orderSet(this.order, this.shift, slot.seq, { key, value }), this.shift, this.nextSeq, this.size);
    }
    const seq = this.nextSeq;
    let { order, shift } = this;
    while (seq >= 32 * 2 ** shift) {
      order = order === undefined ? undefined : [order];
      shift += BITS;
    }
    const added = new Slot(key, hash, seq);
    return new PersistentMap(
      this.keyIndex === undefined ? new Branch(1 << (hash & MASK), [added]) : insert(this.keyIndex, added, 0),
      orderSet(order, shift, seq, { key, value }),
      shift,
      seq + 1,
      this.size + 1,
    );
  }

  /** This map without `key`; this very map when it was not there. */
  without(key: K): PersistentMap<K, V> {
    const hash = hashOf(key);
    const slot = find(this.keyIndex, key, hash, 0);
    if (slot === undefined) return this;
    const next = new PersistentMap(
      remove(this.keyIndex!, key, hash, 0),
      orderSet(this.order, this.shift, slot.seq, undefined),
      this.shift,
      this.nextSeq,
      this.size - 1,
    );
    // Deleted keys leave holes in the order trie; once they outnumber the keys, renumber (paid for by those deletions).
    return next.nextSeq - next.size > next.size + 64 ? PersistentMap.of(next.#entries()) : next;
  }

  /** Each pair frozen: they are shared by every walk of this version. */
  #entries(): MapIterator<[K, V]> {
    this.#pairs ??= this.#all().map((e) => Object.freeze([e.key, e.value]) as [K, V]);
    return this.#pairs.values();
  }

  entries(): MapIterator<[K, V]> {
    return this.#entries();
  }

  keys(): MapIterator<K> {
    return (this.#keys ??= this.#all().map((e) => e.key)).values();
  }

  values(): MapIterator<V> {
    return (this.#values ??= this.#all().map((e) => e.value)).values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const entry of this.#all()) callback.call(thisArg, entry.value, entry.key, this);
  }

  get [Symbol.toStringTag](): string {
    return 'PersistentMap';
  }
}
