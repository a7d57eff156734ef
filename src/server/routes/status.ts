// GET /api/status: environments × services × probes from the config and the engine's subjects, plus open incidents.
import type { FastifyInstance } from 'fastify';
import type { Config, ResolvedProbe } from '../../config/types.js';
import { activeWindows } from '../../incidents/maintenance.js';
import type { EngineState } from '../../incidents/state.js';
import { worse, type Severity, type SubjectState } from '../../types.js';
import type { AppDeps } from '../deps.js';
import { acceptsGzip, gzipOnce } from '../gzip-kept.js';
import { RenderCache } from '../render-cache.js';
import { storedPart } from '../memory-reads.js';
import { incidentJson, rfc3339, type IncidentJson } from '../serialize.js';

export type ServiceState = 'ok' | 'failing' | 'unknown';

export interface ProbeStatusJson {
  id: string;
  type: string;
  /** null until the probe has run. */
  ok: boolean | null;
  /** When the probe last changed between passing and failing (failing: since its first failing finding). */
  since: string | null;
  /** When the probe last finished a run; null until then. */
  last_checked: string | null;
  message?: string;
  incident_id?: number;
}

export interface ServiceStatusJson {
  name: string;
  state: ServiceState;
  /** Worst severity among the service's open incidents, or null. */
  severity: Severity | null;
  probes: ProbeStatusJson[];
}

export interface EnvironmentStatusJson {
  name: string;
  severity_cap: Severity | null;
  services: ServiceStatusJson[];
}

/** A maintenance window active now: incidents in its scope are recorded, paged only at its end. */
export interface MaintenanceJson {
  label: string;
  /** null: every environment / every service. */
  environment: string | null;
  service: string | null;
  reason: string | null;
  started_at: string;
  ends_at: string;
}

/** A message given up recently (refused by its peer, or undelivered for too long): someone was not told. */
export interface UndeliveredJson {
  sink: string;
  channel: string;
  incident_id: number | null;
  event: string;
  error: string | null;
  at: string;
}

export interface StatusJson {
  generated_at: string;
  environments: EnvironmentStatusJson[];
  open_incidents: IncidentJson[];
  maintenance: MaintenanceJson[];
  undelivered?: UndeliveredJson[];
  /** Present (true) while the store cannot be read: the rest is from memory, `undelivered` is left out. */
  store_unavailable?: true;
}

/** Messages given up within this long show on /status. */
export const UNDELIVERED_WINDOW_MS = 24 * 3_600_000;
export const UNDELIVERED_LIMIT = 10;

export function undelivered(store: Pick<AppDeps['store'], 'deadMessages'>, now: number): UndeliveredJson[] {
  return store.deadMessages(now - UNDELIVERED_WINDOW_MS, UNDELIVERED_LIMIT).map((m) => ({
    sink: m.sink,
    channel: m.channel,
    incident_id: m.incidentId,
    event: m.event,
    error: m.error,
    at: rfc3339(m.at),
  }));
}

/** The subjects of each probe: its own (key == id) and its secondary findings (`<id>:…`); probe ids hold no colon. */
function subjectsByProbe(subjects: EngineState['subjects']): Map<string, SubjectState[]> {
  const byProbe = new Map<string, SubjectState[]>();
  for (const subject of subjects.values()) {
    const colon = subject.key.indexOf(':');
    const probe = colon < 0 ? subject.key : subject.key.slice(0, colon);
    const list = byProbe.get(probe);
    if (list) list.push(subject);
    else byProbe.set(probe, [subject]);
  }
  return byProbe;
}

function probeStatus(probe: ResolvedProbe, subjects: readonly SubjectState[], state: EngineState, lastChecked: LastChecked): ProbeStatusJson {
  const checked = lastChecked(probe.id);
  const last_checked = checked === null ? null : rfc3339(checked);
  const known = subjects.filter((s) => s.ok !== null);
  if (known.length === 0) return { id: probe.id, type: probe.type, ok: null, since: null, last_checked };
  const failing = known.filter((s) => s.ok === false);
  if (failing.length === 0) {
    // Healthy since the last of its findings came back.
    return { id: probe.id, type: probe.type, ok: true, since: rfc3339(Math.max(...known.map((s) => s.since))), last_checked };
  }
  const first = failing.reduce((a, b) => (b.since < a.since ? b : a));
  const status: ProbeStatusJson = { id: probe.id, type: probe.type, ok: false, since: rfc3339(first.since), last_checked };
  // Only a root finding's incident carries a message about this probe; a symptom's would describe its root.
  for (const subject of failing) {
    const incident = subject.incidentId === null ? undefined : state.incidents.get(subject.incidentId);
    if (incident && incident.state !== 'resolved') {
      status.incident_id ??= incident.id;
      if (incident.rootKey === subject.key) {
        status.message = incident.message;
        status.incident_id = incident.id;
        break;
      }
    }
  }
  return status;
}

function serviceState(probes: ProbeStatusJson[]): ServiceState {
  if (probes.some((p) => p.ok === false)) return 'failing';
  if (probes.length === 0 || probes.some((p) => p.ok === null)) return 'unknown';
  return 'ok';
}

/** When a probe last finished a run (kept by the daemon in memory), or null. */
export type LastChecked = (probe: string) => number | null;

export function buildStatus(config: Config, state: EngineState, now: number, lastChecked: LastChecked = () => null): StatusJson {
  const open = [...state.incidents.values()]
    .filter((i) => i.state !== 'resolved')
    .sort((a, b) => (a.severity === b.severity ? a.openedAt - b.openedAt : a.severity < b.severity ? -1 : 1));

  // Environment → service → probes, in the order the config names them.
  const tree = new Map<string, Map<string, ProbeStatusJson[]>>();
  const byProbe = subjectsByProbe(state.subjects);
  for (const name of Object.keys(config.environments)) tree.set(name, new Map());
  for (const probe of config.probes) {
    if (!probe.enabled) continue;
    let services = tree.get(probe.environment);
    if (!services) tree.set(probe.environment, (services = new Map()));
    let probes = services.get(probe.service);
    if (!probes) services.set(probe.service, (probes = []));
    probes.push(probeStatus(probe, byProbe.get(probe.id) ?? [], state, lastChecked));
  }

  const environments: EnvironmentStatusJson[] = [];
  for (const [name, services] of tree) {
    const serviceList: ServiceStatusJson[] = [];
    for (const [service, probes] of services) {
      let severity: Severity | null = null;
      for (const incident of open) {
        if (incident.environment === name && incident.service === service) {
          severity = severity === null ? incident.severity : worse(severity, incident.severity);
        }
      }
      serviceList.push({ name: service, state: serviceState(probes), severity, probes });
    }
    environments.push({ name, severity_cap: config.environments[name]?.severityCap ?? null, services: serviceList });
  }

  const maintenance = activeWindows(config.maintenance, now).map((w) => ({
    label: w.label,
    environment: w.environment,
    service: w.service,
    reason: w.reason,
    started_at: rfc3339(w.startedAt),
    ends_at: rfc3339(w.endsAt),
  }));
  return { generated_at: rfc3339(now), environments, open_incidents: open.map((i) => incidentJson(i, now)), maintenance };
}

/** How the status pages keep a rendering (see RenderCache). */
export interface KeptRendering {
  /** What they show changes only with these identities (and the clock). */
  key: () => readonly unknown[];
  /** The app's secret scrubber: a kept rendering is sent as bytes, which the onSend hook does not scrub. */
  scrub: (text: string) => string;
}

export function statusRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config' | 'engineState' | 'store' | 'lastChecked'>, now: () => number, kept: KeptRendering): void {
  const cache = new RenderCache<{ body: Buffer; gzip: () => Buffer }>();
  app.get('/api/status', async (request, reply) => {
    const at = now();
    const rendered = cache.get(kept.key(), at, () => {
      const given = storedPart(() => undelivered(deps.store, at));
      const status: StatusJson = { ...buildStatus(deps.config, deps.engineState(), at, deps.lastChecked), ...(given ? { undelivered: given } : { store_unavailable: true }) };
      const body = Buffer.from(kept.scrub(JSON.stringify(status)));
      let gzip: Buffer | undefined;
      return { body, gzip: () => (gzip ??= gzipOnce(body)) };
    });
    reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(rendered.body);
    return reply.header('content-encoding', 'gzip').send(rendered.gzip());
  });
}
