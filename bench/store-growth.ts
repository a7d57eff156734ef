// The store under a simulated clock: a fleet's runs, incidents and messages over days, with the
// daemon's hourly uptime flush and retention prune, in seconds rather than days of waiting.
import { statSync } from 'node:fs';
import { loadConfigText } from '../src/config/load.js';
import { engineConfigOf } from '../src/daemon.js';
import { initialState, step, tick } from '../src/incidents/engine.js';
import type { StepResult } from '../src/incidents/state.js';
import { route, type RouteChannels } from '../src/notify/route.js';
import { openStore } from '../src/store/sqlite.js';
import type { Finding } from '../src/types.js';
import { fleetYaml } from './fleet.js';

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
const T0 = Date.UTC(2026, 0, 5);
/** Every channel configured: each incident's messages are stored as a real deployment's would be. */
const CHANNELS: RouteChannels = { discord: { errors: true, warnings: true, ops: true }, oncall: null };

export interface GrowthSpec {
  probes: number;
  days: number;
  file: string;
  /** store.retention as in the config; the config's default when absent. */
  retention?: string;
  /** Simulated time between two runs of a probe. */
  stepMs?: number;
}

export interface Growth {
  /** Database + WAL at the end of each simulated day. */
  bytesPerDay: number[];
  /** The file once closed (the WAL folded back in). */
  finalBytes: number;
  incidents: number;
  runs: number;
}

/**
 * One probe in fifty fails for three runs twice a day (an incident opened, paged, resolved); the
 * rest always pass. A passing probe whose counters are saturated is a no-op for the engine (nothing
 * changes, nothing is written), so after the first round only the probes that flap go through it;
 * every run of every probe is counted into uptime.
 */
export function simulateStoreGrowth(spec: GrowthSpec): Growth {
  const stepMs = spec.stepMs ?? 10 * 60_000;
  const spec0 = { probes: spec.probes, interval: `${stepMs / 1000}s`, ports: [1], storePath: spec.file };
  const config = loadConfigText(fleetYaml(spec.retention ? { ...spec0, retention: spec.retention } : spec0), 'growth.yaml', {});
  const cfg = engineConfigOf(config);
  const store = openStore(spec.file);
  let state = initialState(store.loadEngineState(0));
  let incidents = 0;
  let runs = 0;
  const commit = (result: StepResult, at: number): void => {
    const messages = result.events.flatMap((event) =>
      route(event, CHANNELS).map((m) => ({ ...m, createdAt: at, incidentId: event.incidentId, event: event.type })),
    );
    for (const m of store.apply({ ...result.changed, messages, events: result.events })) store.markDelivered(m.id, at);
    incidents += result.events.filter((e) => e.type === 'opened').length;
    state = result.state;
  };
  // Staggered by a run per flapping probe, so they do not all fail at once.
  const failing = (i: number, at: number): boolean => i % 50 === 0 && (at - T0 + (i / 50) * stepMs) % (12 * HOUR_MS) < 3 * stepMs;
  const bytesPerDay: number[] = [];
  const end = T0 + spec.days * DAY_MS;
  for (let at = T0; at < end; at += stepMs) {
    for (const probe of config.probes) {
      const i = Number(probe.id.slice(1));
      const ok = !failing(i, at);
      store.recordRun({ probe: probe.id, environment: probe.environment, service: probe.service, ok, at });
      runs++;
      if (at !== T0 && i % 50 !== 0) continue;
      const finding: Finding = ok
        ? { key: probe.id, ok, message: '200 OK in 3 ms' }
        : { key: probe.id, ok, message: 'HTTP 503 Service Unavailable', evidence: `HTTP/1.1 503 Service Unavailable\ncontent-type: application/json\n\n{"status":"down","detail":"upstream p${i} is restarting"}` };
      commit(step(state, { probe: probe.id, findings: [finding] }, at, cfg), at);
    }
    commit(tick(state, at, cfg), at);
    const next = at + stepMs;
    if (Math.floor(next / HOUR_MS) !== Math.floor(at / HOUR_MS)) {
      // What the daemon does every minute and every hour.
      store.flushUptime();
      store.prune(next, config.store.retentionMs);
    }
    if (Math.floor((next - T0) / DAY_MS) !== Math.floor((at - T0) / DAY_MS)) bytesPerDay.push(store.sizeBytes());
  }
  store.close();
  return { bytesPerDay, finalBytes: statSync(spec.file).size, incidents, runs };
}
