// Real deps for buildApp in tests: an in-memory SQLite store, real metrics and logger, the real engine's commands; engine state seeded by hand.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/types.js';
import { engineConfigOf, REOPEN_WINDOW_MS } from '../../src/daemon.js';
import { command } from '../../src/incidents/engine.js';
import type { Command, CommandResult, EngineState } from '../../src/incidents/state.js';
import { createLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import type { Incident, SubjectState, TimelineEntry } from '../../src/types.js';
import { testConfig } from '../helpers/config.js';

export const NOW = Date.UTC(2024, 4, 1, 3, 12, 0);

export interface Harness {
  app: FastifyInstance;
  store: Store;
  metrics: Metrics;
  subjects: Map<string, SubjectState>;
  incidents: Map<number, Incident>;
  health: { scheduler: boolean; store: boolean; ready: boolean };
  /** Raw JSON log lines the app wrote. */
  logs: string[];
  dispatched: Command[];
  seed(incident: Incident): void;
  close(): Promise<void>;
}

export function makeIncident(overrides: Partial<Incident> & { id: number }): Incident {
  return {
    state: 'open',
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    summary: 'Backend API down',
    rootProbe: 'backend-health',
    rootKey: 'backend-health',
    symptoms: [],
    openedAt: NOW - 5 * 60_000,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    respondBy: NOW + 25 * 60_000,
    lastReminderAt: null,
    message: 'connection refused',
    timeline: [{ at: NOW - 5 * 60_000, event: 'opened', detail: 'connection refused' }],
    evidence: [],
    ...overrides,
  };
}

export function subject(key: string, ok: boolean | null, overrides: Partial<SubjectState> = {}): SubjectState {
  const probe = key.split(':')[0] ?? key;
  return { key, probe, ok, failures: ok === false ? 2 : 0, successes: ok ? 2 : 0, severity: null, since: NOW - 60_000, incidentId: null, ...overrides };
}

/** `store`: another store than a fresh in-memory SQLite one (a PostgreSQL store behind the daemon's WriteBehindStore). */
export function harness(opts: { config?: Config; now?: number; store?: Store } = {}): Harness {
  const store = opts.store ?? openStore(':memory:');
  const metrics = createMetrics('test');
  const logs: string[] = [];
  const log = createLogger({ level: 'trace', destination: { write: (line: string) => void logs.push(line) } });
  const subjects = new Map<string, SubjectState>();
  const incidents = new Map<number, Incident>();
  const health = { scheduler: true, store: true, ready: true };
  const dispatched: Command[] = [];
  const now = opts.now ?? NOW;
  const config = opts.config ?? testConfig();
  const engineState = (): EngineState => ({ subjects, incidents, nextIncidentId: Math.max(0, ...incidents.keys()) + 1 });

  const engineCfg = engineConfigOf(config);

  /** Stores an incident as the daemon's commit would, and holds it in the engine state like a daemon started on this store. */
  function save(incident: Incident, entries: TimelineEntry[]): void {
    store.apply({ subjects: [], incidents: [incident], timeline: entries.map((entry) => ({ incidentId: incident.id, entry })), messages: [], events: [] });
    if (incident.state === 'resolved' && incident.resolvedAt !== null && incident.resolvedAt < now - REOPEN_WINDOW_MS) incidents.delete(incident.id);
    else incidents.set(incident.id, incident);
  }

  // The real engine's command, its changes written to the real store before the state moves on (as the daemon does).
  function dispatch(cmd: Command): CommandResult {
    dispatched.push(cmd);
    const result = command(engineState(), cmd, now, engineCfg);
    if (!result.ok) return result;
    store.apply({ ...result.changed, messages: [], events: result.events });
    subjects.clear();
    for (const [key, s] of result.state.subjects) subjects.set(key, s);
    incidents.clear();
    for (const [id, i] of result.state.incidents) incidents.set(id, i);
    return result;
  }

  const app = buildApp({ config, store, metrics, log, engineState, dispatch, health: () => health, now: () => now });
  return {
    app,
    store,
    metrics,
    subjects,
    incidents,
    health,
    logs,
    dispatched,
    seed: (incident) => save(incident, incident.timeline),
    close: async () => {
      await app.close();
      store.close();
    },
  };
}
