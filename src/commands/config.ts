// Loads the config for a command, or prints every problem and tells the caller to exit 78.
import { existsSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';

/** EX_CONFIG from sysexits.h: what `vigil` exits with on a bad config. */
export const EXIT_CONFIG = 78;

export function loadOrReport(path: string, stderr: NodeJS.WritableStream = process.stderr): Config | null {
  try {
    return loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      const n = err.problems.length;
      stderr.write(`${err.message}\n${path}: ${n} problem${n === 1 ? '' : 's'} in the config\n`);
      return null;
    }
    throw err;
  }
}

/**
 * The store a reading command looks at, or null when the config names a store that does not exist:
 * opening it would create an empty one and answer "no incidents" about the wrong file.
 */
export function openExistingStore(config: Config, stderr: NodeJS.WritableStream = process.stderr): Store | null {
  const path = config.store.path;
  if (path !== ':memory:' && !existsSync(path)) {
    stderr.write(`vigil: no store at ${path} (store.path in ${config.file}); has \`vigil run\` run with this config?\n`);
    return null;
  }
  return openStore(path);
}
