// Loads the config for a command, or prints every problem and tells the caller to exit 78.
import { existsSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openConfiguredStore } from '../store/configured.js';
import { StoreError } from '../store/errors.js';
import { PostgresQueryError } from '../store/postgres.js';
import type { Store } from '../store/store.js';

/** EX_CONFIG from sysexits.h: what `vigil` exits with on a bad config. */
export const EXIT_CONFIG = 78;

export function loadOrReport(path: string, stderr: NodeJS.WritableStream = process.stderr, opts: LoadOptions = {}): Config | null {
  try {
    return loadConfig(path, process.env, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      const n = err.problems.length;
      stderr.write(`${err.message}\n${path}: ${n} problem${n === 1 ? '' : 's'} in the config\n`);
      return null;
    }
    throw err;
  }
}

/** The config a command that only reads the store needs: the daemon's secrets (webhooks, tokens) may be absent. */
export function loadForReading(path: string, stderr: NodeJS.WritableStream = process.stderr): Config | null {
  return loadOrReport(path, stderr, { requireSecrets: false });
}

/**
 * The store a reading command looks at, or null when the config names a store file that does not exist
 * (opening it would create an empty one and answer "no incidents" about the wrong file) or a store that
 * cannot be opened or read; either way the reason is on stderr.
 */
export function openExistingStore(config: Config, stderr: NodeJS.WritableStream = process.stderr): Store | null {
  const path = config.store.path;
  if (!config.store.postgres && path !== ':memory:' && !existsSync(path)) {
    stderr.write(`vigil: no store at ${path} (store.path in ${config.file}); has \`vigil run\` run with this config?\n`);
    return null;
  }
  try {
    return openConfiguredStore(config.store);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    stderr.write(`vigil: ${err.message}\n`);
    return null;
  }
}

/**
 * Runs a read of the store; an unreadable (corrupt, unreachable) store is one clear line on stderr, not a
 * stack trace. `label` names the store (storeLabel).
 */
export function readStore<T>(store: Store, label: string, read: (store: Store) => T, stderr: NodeJS.WritableStream = process.stderr): T | null {
  try {
    return read(store);
  } catch (err) {
    if (err instanceof StoreError || err instanceof PostgresQueryError) {
      stderr.write(`vigil: cannot read ${label}: ${err.message}\n`);
      return null;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) throw err;
    stderr.write(`vigil: cannot read ${label}: ${readFailure(code, err)}\n`);
    return null;
  } finally {
    store.close();
  }
}

function readFailure(code: string, err: unknown): string {
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return 'the store file is corrupt (restore it from a backup, or move it away)';
  return `${(err as Error).message} (${code})`;
}
