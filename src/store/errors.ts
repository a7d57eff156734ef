// The store's errors, shared by the SQLite and the PostgreSQL store.

/** The store could not be opened or migrated; the message names the store and the reason. */
export class StoreError extends Error {
  readonly code: string = 'VIGIL_ERR_STORE';
  override name = 'StoreError';
}

/** Another vigil holds the store: two daemons on one file would page every event twice. */
export class StoreInUseError extends StoreError {
  override readonly code = 'VIGIL_ERR_STORE_IN_USE';
  override name = 'StoreInUseError';
}

/**
 * The store cannot be reached or written now (PostgreSQL down, restarting, out of room, or no answer in
 * time), not that the change is wrong: the daemon keeps its changes in memory until it writes again.
 */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'VIGIL_ERR_STORE_UNAVAILABLE';
  override name = 'StoreUnavailableError';
}
