// Reads open Better Stack on-call incidents back: an ack or resolve made there (the phone app) becomes vigil's.
import type { Logger } from 'pino';
import type { OncallConfig } from '../config/types.js';
import type { Command, CommandResult } from '../incidents/state.js';
import type { OncallIncident, Store } from '../store/store.js';
import type { Incident } from '../types.js';
import { callBetterStack, incidentPath } from './sinks/betterstack-oncall.js';

/** How a change made in Better Stack is named on vigil's timeline and in #ops. */
export const VIA_BETTER_STACK = 'Better Stack';
const REQUEST_TIMEOUT_MS = 10_000;

/** What vigil reads of a Better Stack incident. */
export interface RemoteState {
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export function readRemoteState(text: string): RemoteState | null {
  try {
    const a = (JSON.parse(text) as { data?: { attributes?: Record<string, unknown> } }).data?.attributes;
    if (!a || typeof a !== 'object') return null;
    const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
    return { acknowledgedAt: str(a.acknowledged_at), acknowledgedBy: str(a.acknowledged_by), resolvedAt: str(a.resolved_at), resolvedBy: str(a.resolved_by) };
  } catch {
    return null;
  }
}

/**
 * The engine command a Better Stack incident's state calls for, given vigil's incident, or null.
 * Pure. A resolve there resolves vigil's incident; an ack there acknowledges it if still open.
 */
export function commandFor(row: OncallIncident, remote: RemoteState, incident: Pick<Incident, 'id' | 'state'> | undefined): Command | null {
  if (!incident || incident.state === 'resolved') return null;
  if (remote.resolvedAt !== null) return { type: 'resolve', incidentId: incident.id, by: remote.resolvedBy ?? VIA_BETTER_STACK, via: VIA_BETTER_STACK };
  if (remote.acknowledgedAt !== null && row.state === 'open' && incident.state === 'open') {
    return { type: 'ack', incidentId: incident.id, by: remote.acknowledgedBy ?? VIA_BETTER_STACK, via: VIA_BETTER_STACK };
  }
  return null;
}

export interface OncallSyncOptions {
  config: OncallConfig;
  store: Pick<Store, 'activeOncallIncidents' | 'setOncallState'>;
  /** vigil's incident as the engine holds it now (undefined when no longer held). */
  incident: (id: number) => Incident | undefined;
  /** The engine's command path, like an operator's ack. */
  dispatch: (cmd: Command) => CommandResult;
  log: Logger;
  now?: () => number;
}

export class OncallSync {
  readonly #opts: OncallSyncOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  readonly #stop = new AbortController();
  /** The last problem logged, so a token that stays wrong is said once, not every interval. */
  #problem = '';

  constructor(opts: OncallSyncOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log.child({ component: 'oncall-sync' });
  }

  start(): void {
    this.#timer = setInterval(() => void this.runOnce(), this.#opts.config.syncIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stop.abort();
    await this.#running;
  }

  /** One read of every Better Stack incident not yet known to be resolved; reads never overlap. */
  runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<void> {
    let rows: OncallIncident[];
    try {
      rows = this.#opts.store.activeOncallIncidents();
    } catch (err) {
      this.#log.error({ err }, 'cannot read the Better Stack incidents to follow');
      return;
    }
    for (const row of rows) {
      if (this.#stop.signal.aborted) return;
      await this.#follow(row).catch((err: unknown) => this.#say(`cannot read Better Stack incident: ${err instanceof Error ? err.message : String(err)}`, row));
    }
  }

  async #follow(row: OncallIncident): Promise<void> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const res = await callBetterStack(this.#opts.config, { method: 'GET', path: incidentPath(row.remoteId) }, signal);
    const at = this.#now();
    if (res.status === 404) {
      this.#opts.store.setOncallState(row.remoteId, 'resolved', at);
      this.#log.warn({ remote_id: row.remoteId, incident_id: row.incidentId }, `Better Stack incident ${row.remoteId} no longer exists; no longer following it`);
      return;
    }
    const remote = res.status === 200 ? readRemoteState(res.text) : null;
    if (!remote) return this.#say(`Better Stack answered ${res.status} to reading an incident`, row, res.status === 401 || res.status === 403);
    this.#problem = '';
    const command = commandFor(row, remote, this.#opts.incident(row.incidentId));
    if (remote.resolvedAt !== null) this.#opts.store.setOncallState(row.remoteId, 'resolved', at);
    else if (remote.acknowledgedAt !== null) this.#opts.store.setOncallState(row.remoteId, 'acknowledged', at);
    if (!command) return;
    const result = this.#opts.dispatch(command);
    if (result.ok) this.#log.info({ incident_id: row.incidentId, remote_id: row.remoteId, by: command.by }, `incident #${row.incidentId} ${command.type === 'ack' ? 'acknowledged' : 'resolved'} in Better Stack`);
    else this.#log.debug({ incident_id: row.incidentId, code: result.code }, `Better Stack's ${command.type} not applied: ${result.message}`);
  }

  #say(problem: string, row: OncallIncident, token = false): void {
    if (problem === this.#problem) return;
    this.#problem = problem;
    const hint = token ? ': check alerts.betterstack.oncall.api_token_env' : '';
    this.#log[token ? 'error' : 'warn']({ remote_id: row.remoteId, incident_id: row.incidentId }, `${problem}${hint}; acks made in Better Stack do not reach vigil meanwhile`);
  }
}
