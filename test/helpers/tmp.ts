// A temporary directory per test under os.tmpdir(), removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Anything with tap's `teardown`, so the helper fits a tap Test without importing its types. */
export interface HasTeardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** Creates a fresh directory (`<tmpdir>/<prefix>XXXXXX`) and removes it, contents and all, on teardown. */
export function tmpDir(t: HasTeardown, prefix = 'vigil-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
