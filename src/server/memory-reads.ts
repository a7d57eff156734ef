// The routes' reads of the store, answered from the daemon's memory while the store is unavailable (PostgreSQL down).
import { StoreUnavailableError } from '../store/errors.js';
import type { IncidentQuery } from '../store/store.js';
import type { Incident } from '../types.js';
import type { AppDeps } from './deps.js';

type Reads = Pick<AppDeps, 'store' | 'engineState'>;

/**
 * The incident from the store, else, while the store cannot be read, from the engine, which holds
 * every unresolved and recently resolved one. Any other incident rethrows: the error handler answers 503.
 */
export function readIncident(deps: Reads, id: number): Incident | null {
  try {
    return deps.store.getIncident(id);
  } catch (err) {
    const held = err instanceof StoreUnavailableError ? deps.engineState().incidents.get(id) : undefined;
    if (held) return held;
    throw err;
  }
}

/** Incidents from the store, else the open ones from the engine (it holds them all); other lists rethrow. */
export function readIncidents(deps: Reads, q: IncidentQuery & { limit: number }): Incident[] {
  try {
    return deps.store.listIncidents(q);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError) || q.state !== 'open') throw err;
    return [...deps.engineState().incidents.values()]
      .filter((i) => i.state !== 'resolved')
      .sort((a, b) => b.id - a.id)
      .slice(0, q.limit);
  }
}

/** A part of a page only the store holds (uptime, history, given-up messages): null while it cannot be read. */
export function storedPart<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (err instanceof StoreUnavailableError) return null;
    throw err;
  }
}
