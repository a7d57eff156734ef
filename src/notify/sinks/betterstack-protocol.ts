// What the main thread and the Better Stack transport worker agree on; kept apart so the main thread
// does not load the worker's dependencies (@logtail/node) just to name an event.

/** The event the main thread's transport stream emits with the number of records just dropped. */
export const DROPPED_EVENT = 'vigil:betterstack-dropped';

export interface BetterStackTransportOptions {
  sourceToken: string;
  endpoint: string;
  batchIntervalMs?: number;
  retryCount?: number;
  /** How long the final flush at shutdown may take (the main thread waits for it). */
  closeTimeoutMs?: number;
}
