// t.match on an array lets extra elements through; where one more log line, event or finding would be a
// bug, the list must have exactly the wanted elements, each matching its pattern.
import type { Test } from 'tap';

/** Asserts `found` has as many elements as `wanted` and each matches its pattern (extra fields allowed). */
export function matchExactly(t: Test, found: readonly unknown[], wanted: readonly unknown[], message = 'exactly these'): void {
  const counted = found.length === wanted.length ? `${message}: ${wanted.length}` : `${message}: ${wanted.length} expected, got ${JSON.stringify(found).slice(0, 2000)}`;
  t.equal(found.length, wanted.length, counted);
  t.match(found, wanted, message);
}
