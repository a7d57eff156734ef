// Opening the store the config names: the SQLite file at store.path, or the PostgreSQL database of store.postgres.
import type { Config } from '../config/types.js';
import { StoreError } from './errors.js';
import { openPostgresStore } from './postgres.js';
import { openStore } from './sqlite.js';
import type { BackingStore } from './write-behind.js';

export interface ConfiguredStoreOptions {
  /** The daemon: hold a SQLite file for this process alone. Replicas share a PostgreSQL store by design. */
  exclusive?: boolean;
  now?: () => number;
}

/** What messages and logs call the store: the file, or the variable holding the URL (never the URL, a secret). */
export function storeLabel(store: Config['store']): string {
  return store.postgres ? `the PostgreSQL store at $${store.postgres.urlEnv}` : store.path;
}

/** Opens (creating and migrating it if needed) the store the config names. Throws StoreError. */
export function openConfiguredStore(store: Config['store'], opts: ConfiguredStoreOptions = {}): BackingStore {
  const pg = store.postgres;
  if (!pg) return openStore(store.path, opts);
  if (pg.url === null) throw new StoreError(`store.postgres.url_env: environment variable ${pg.urlEnv} is not set`);
  return openPostgresStore(pg.url, { name: storeLabel(store), ...(opts.now ? { now: opts.now } : {}) });
}
