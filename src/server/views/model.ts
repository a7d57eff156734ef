// What the /status pages show, as plain data for the templates: built from the config, engine state and store.
import type { Config } from '../../config/types.js';
import { describeMatchers, isSilenceActive, type Silence } from '../../incidents/silences.js';
import type { EngineState } from '../../incidents/state.js';
import type { UptimeRow } from '../../store/store.js';
import { worse, type Incident, type Severity } from '../../types.js';
import { outage, outageText } from '../../incidents/durations.js';
import { buildStatus, type LastChecked, type ProbeStatusJson, type ServiceState, type UndeliveredJson } from '../routes/status.js';
import { timeView, type TimeView } from './format.js';
import { maintenanceNotices, type MaintenanceNotice } from './maintenance.js';
import { dailyUptime, type UptimeView } from './uptime.js';

export const REFRESH_SECONDS = 30;

export interface ProbeView {
  id: string;
  type: string;
  ok: boolean | null;
  since: TimeView | null;
  lastChecked: TimeView | null;
  message: string | null;
  incidentId: number | null;
}

export interface CellView {
  environment: string;
  service: string;
  state: ServiceState;
  severity: Severity | null;
  passing: number;
  probes: ProbeView[];
}

export interface IncidentView {
  id: number;
  href: string;
  state: Incident['state'];
  severity: Severity;
  environment: string;
  service: string;
  summary: string;
  message: string;
  rootProbe: string;
  symptoms: string[];
  opened: TimeView;
  acknowledged: (TimeView & { by: string | null }) | null;
  resolved: TimeView | null;
  respondBy: (TimeView & { overdue: boolean }) | null;
  /** Open for so long, or lasted so long once resolved (since the last reopening, with the total after a reopening). */
  duration: string;
  timeline: Array<{ at: TimeView; event: string; by: string | null; detail: string }>;
  evidence: Array<{ at: TimeView; source: string; text: string }>;
}

export interface Headline {
  tone: 'ok' | 'unknown' | 'degraded' | Severity;
  text: string;
}

export interface StatusPageModel {
  generated: TimeView;
  refreshSeconds: number;
  headline: Headline;
  environments: string[];
  /** Services × environments; null where the environment has no such service. */
  grid: Array<{ service: string; cells: Array<CellView | null> }>;
  incidents: IncidentView[];
  recent: IncidentView[];
  maintenance: MaintenanceNotice[];
  silences: SilenceView[];
  uptime: UptimeView;
  /** Messages given up recently: a page someone never got. */
  undelivered: Array<{ at: TimeView; sink: string; channel: string; incidentId: number | null; event: string; error: string }>;
  /** The store that cannot be read now, or null. */
  storeUnavailable: string | null;
}

/** A silence in force: what it matches, why, who, until when. */
export interface SilenceView {
  id: number;
  matchers: string;
  reason: string;
  by: string;
  started: TimeView;
  until: TimeView;
}

export interface StatusPageInput {
  config: Config;
  state: EngineState;
  uptimeRows: readonly UptimeRow[];
  /** Recently resolved incidents from the store, newest first. */
  resolved: readonly Incident[];
  /** When each probe last finished a run. */
  lastChecked?: LastChecked;
  /** Silences from the store; those in force now are shown. */
  silences?: readonly Silence[];
  now: number;
  undelivered?: readonly UndeliveredJson[];
  /** The store (as storeLabel names it) when it cannot be read: the page says what it leaves out. */
  storeUnavailable?: string;
}

function probeView(p: ProbeStatusJson, now: number): ProbeView {
  return {
    id: p.id,
    type: p.type,
    ok: p.ok,
    since: p.since === null ? null : timeView(Date.parse(p.since), now),
    lastChecked: p.last_checked === null ? null : timeView(Date.parse(p.last_checked), now),
    message: p.message ?? null,
    incidentId: p.incident_id ?? null,
  };
}

export function incidentView(incident: Incident, now: number): IncidentView {
  const lasted = outage(incident, now);
  return {
    id: incident.id,
    href: `/status/incidents/${incident.id}`,
    state: incident.state,
    severity: incident.severity,
    environment: incident.environment,
    service: incident.service,
    summary: incident.summary,
    message: incident.message,
    rootProbe: incident.rootProbe,
    symptoms: [...incident.symptoms],
    opened: timeView(incident.openedAt, now),
    acknowledged: incident.acknowledgedAt === null ? null : { ...timeView(incident.acknowledgedAt, now), by: incident.acknowledgedBy },
    resolved: incident.resolvedAt === null ? null : timeView(incident.resolvedAt, now),
    respondBy:
      incident.respondBy === null
        ? null
        : { ...timeView(incident.respondBy, now), overdue: incident.state === 'open' && now > incident.respondBy },
    // Under a second, "Open for 441ms" reads like a glitch; the page refreshes long before it matters.
    duration: incident.resolvedAt === null && lasted.currentMs < 1_000 ? 'just opened' : outageText(lasted),
    timeline: [...incident.timeline]
      .sort((a, b) => a.at - b.at)
      .map((e) => ({ at: timeView(e.at, now), event: e.event, by: e.by ?? null, detail: e.detail })),
    evidence: incident.evidence.map((e) => ({ at: timeView(e.at, now), source: e.source, text: e.text })),
  };
}

function headline(incidents: readonly Incident[], grid: StatusPageModel['grid']): Headline {
  if (incidents.length > 0) {
    const worst = incidents.map((i) => i.severity).reduce(worse);
    const n = incidents.length;
    return { tone: worst, text: `${n} open incident${n === 1 ? '' : 's'}, worst ${worst}` };
  }
  const cells = grid.flatMap((r) => r.cells).filter((c): c is CellView => c !== null);
  if (cells.some((c) => c.state === 'failing')) return { tone: 'degraded', text: 'Some checks are failing; no incident yet' };
  if (cells.some((c) => c.state === 'unknown')) return { tone: 'unknown', text: 'Waiting for the first probe results' };
  return { tone: 'ok', text: 'All systems operational' };
}

export function statusPageModel(input: StatusPageInput): StatusPageModel {
  const { config, state, now } = input;
  const status = buildStatus(config, state, now, input.lastChecked);
  const environments = status.environments.map((e) => e.name);
  const services: string[] = [];
  for (const env of status.environments) for (const s of env.services) if (!services.includes(s.name)) services.push(s.name);

  const grid = services.map((service) => ({
    service,
    cells: status.environments.map((env): CellView | null => {
      const s = env.services.find((x) => x.name === service);
      if (!s) return null;
      return {
        environment: env.name,
        service,
        state: s.state,
        severity: s.severity,
        passing: s.probes.filter((p) => p.ok === true).length,
        probes: s.probes.map((p) => probeView(p, now)),
      };
    }),
  }));

  const open = [...state.incidents.values()]
    .filter((i) => i.state !== 'resolved')
    .sort((a, b) => (a.severity === b.severity ? a.openedAt - b.openedAt : a.severity < b.severity ? -1 : 1));
  const pairs = status.environments.flatMap((env) => env.services.map((s) => ({ environment: env.name, service: s.name })));

  return {
    generated: timeView(now, now),
    refreshSeconds: REFRESH_SECONDS,
    headline: headline(open, grid),
    environments,
    grid,
    incidents: open.map((i) => incidentView(i, now)),
    recent: input.resolved.map((i) => incidentView(i, now)),
    maintenance: maintenanceNotices(config.maintenance, now),
    silences: (input.silences ?? [])
      .filter((s) => isSilenceActive(s, now))
      .map((s) => ({ id: s.id, matchers: describeMatchers(s.matchers), reason: s.reason, by: s.by, started: timeView(s.startsAt, now), until: timeView(s.endsAt, now) })),
    uptime: dailyUptime(input.uptimeRows, pairs, now),
    undelivered: (input.undelivered ?? []).map((m) => ({
      at: timeView(Date.parse(m.at), now),
      sink: m.sink,
      channel: m.channel,
      incidentId: m.incident_id,
      event: m.event,
      error: m.error ?? 'unknown error',
    })),
    storeUnavailable: input.storeUnavailable ?? null,
  };
}
