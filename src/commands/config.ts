// Loads the config for a command, or prints every problem and tells the caller to exit 78.
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

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
