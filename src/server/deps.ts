// What the HTTP app is built from: the daemon's state and powers, handed to every route. Apart from
// app.ts so that the routes, which app.ts registers, do not import it back.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { ClusterStatus } from '../cluster/cluster.js';
import type { Command, CommandResult, EngineState } from '../incidents/state.js';
import type { Incident } from '../types.js';
import type { Metrics } from '../metrics.js';
import type { SilenceBook } from '../silence-book.js';
import type { Store } from '../store/store.js';

export interface AppDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  log: Logger;
  /** Current subjects and open incidents. */
  engineState: () => EngineState;
  /**
   * What the kept renderings of /status and /api/status are keyed by: an identity that changes when
   * what they show of the engine state does, not when only a streak counter climbs. Absent: the
   * engine state itself.
   */
  shownState?: () => object;
  /**
   * Applies an ack/resolve/note through the engine and the store (on a standby replica: through
   * the leader, hence the promise).
   */
  dispatch: (cmd: Command) => CommandAnswer | Promise<CommandAnswer>;
  /** The replicas sharing the store and which leads; null (or absent) when vigil runs alone. */
  cluster?: () => ClusterStatus | null;
  health: () => { scheduler: boolean; store: boolean; ready: boolean };
  /** When each probe last finished a run, for /status; absent in tests that do not run probes. */
  lastChecked?: (probe: string) => number | null;
  now?: () => number;
  /** The silences the API adds and expires; the daemon passes its own so the engine hears of changes. */
  silences?: SilenceBook;
  /** A push probe got a heartbeat (already stored): judge it now rather than at its next run. */
  pushed?: (probe: string) => void;
}


/** What an ack/resolve/note came to: the incident after it, or why it was refused. */
export type CommandAnswer = { ok: true; incident: Incident } | Extract<CommandResult, { ok: false }>;

/** Requests carry names and short notes; anything bigger is a mistake or an attack. */
export const BODY_LIMIT_BYTES = 64 * 1024;
