// The incident engine: a pure reducer of (state, probe run | clock tick | command, now, config) to new state, events and writes.
import { formatMinutes } from '../duration.js';
import type { ProbeMeta } from '../config/types.js';
import type { Finding, Incident, Severity, SubjectState } from '../types.js';
import { classify, escalateByTime, respondByFor } from './classify.js';
import { Draft, isActive, keysByProbe } from './draft.js';
import { outage } from './durations.js';
import { dependenciesOf } from './grouping.js';
import { openOrJoin, pagedAt, reclassify, resolve } from './lifecycle.js';
import { heldByName, holdCovering } from './hold.js';
import { PersistentMap } from './persistent-map.js';
import type { EngineConfig, EngineState, RunInput, StepResult } from './state.js';
import { clip, formatDuration } from './wording.js';

export { command } from './commands.js';
export { activeWindows, type ActiveWindow } from './maintenance.js';

/** An empty state, or the one the store kept: open incidents, recently resolved ones, counters. */
export function initialState(loaded?: { subjects: SubjectState[]; incidents: Incident[]; nextIncidentId: number }): EngineState {
  const subjects = PersistentMap.of((loaded?.subjects ?? []).map((s) => [s.key, s] as const));
  const incidents = PersistentMap.of((loaded?.incidents ?? []).map((i) => [i.id, i] as const));
  // Never hand out an id the store already holds, even if its counter lags behind.
  const highest = Math.max(0, ...incidents.keys());
  return {
    subjects,
    incidents,
    nextIncidentId: Math.max(loaded?.nextIncidentId ?? 1, highest + 1),
    subjectKeysByProbe: keysByProbe(subjects.values()),
  };
}

/**
 * Feeds one probe run's findings through the thresholds. A run of a probe no longer in the config is
 * ignored (the config was reloaded while it ran). Findings the probe itself depends on (its host's
 * reachability) go first, so a host outage seen by the same run groups its service findings under it.
 */
export function step(state: EngineState, run: RunInput, now: number, cfg: EngineConfig): StepResult {
  const d = new Draft(state, now);
  const meta = cfg.probes.get(run.probe);
  if (!meta) return d.result();
  const ownDeps = dependenciesOf(meta.id, cfg.probes).keys;
  const findings = [...run.findings].sort((a, b) => Number(ownDeps.has(b.key)) - Number(ownDeps.has(a.key)));
  for (const finding of findings) observe(d, meta, finding, cfg);
  return d.result();
}

function observe(d: Draft, meta: ProbeMeta, finding: Finding, cfg: EngineConfig): void {
  const previous = d.subject(finding.key);
  const flipped = previous === undefined || previous.ok !== finding.ok;
  const held = d.incident(previous?.incidentId ?? null);
  const incident = isActive(held) ? held : undefined;
  const isRoot = incident !== undefined && incident.rootKey === finding.key;
  const env = cfg.environments[meta.environment];
  const severity = finding.ok ? null : classify(meta, finding, env, isRoot ? d.now - incident.openedAt : 0);

  // Counters saturate at the thresholds: past them a steady stream changes nothing and writes nothing.
  const subject = d.putSubject({
    key: finding.key,
    probe: meta.id,
    ok: finding.ok,
    failures: finding.ok ? 0 : Math.min((flipped ? 0 : previous.failures) + 1, meta.failureThreshold),
    successes: finding.ok ? Math.min((flipped ? 0 : previous.successes) + 1, meta.successThreshold) : 0,
    severity,
    since: flipped ? d.now : previous.since,
    incidentId: incident?.id ?? null,
  });

  if (severity !== null) {
    // The stored message follows the root only when something persistent changes anyway.
    if (isRoot) reclassify(d, incident, severity, finding);
    else if (!incident && subject.failures >= meta.failureThreshold) openOrJoin(d, meta, finding, cfg);
    return;
  }
  // The root's first pass: the symptoms' failures so far were seen while it was down and say nothing
  // about now. Each must fail again after this to count as still failing when the root resolves.
  if (isRoot && previous?.ok === false) forgetSymptomFailures(d, incident);
  // A recovering symptom only updates its counters; it leaves the incident when the root resolves.
  if (isRoot && subject.successes >= meta.successThreshold) {
    resolve(d, incident, cfg, {
      detail: `Resolved after ${formatDuration(outage(incident, d.now).currentMs)}: ${finding.key} passing`,
      message: finding.message,
    });
  }
}

function forgetSymptomFailures(d: Draft, incident: Incident): void {
  for (const key of incident.symptoms) {
    const symptom = d.subject(key);
    if (symptom?.ok === false && symptom.incidentId === incident.id) d.patchSubject(key, { failures: 0 });
  }
}

/**
 * Everything that happens with time alone: `after` escalation of active incidents, the end of the
 * maintenance window holding an incident (paged then if still open), response-clock reminders (at
 * respondBy, then again one response period — S1 30 min, S2 2 h, S3 the next business day — after
 * the last, until acknowledged or resolved), and forgetting incidents resolved longer ago than the
 * reopen window (the store still has them).
 */
export function tick(state: EngineState, now: number, cfg: EngineConfig): StepResult {
  const d = new Draft(state, now);
  for (const { id } of state.incidents.values()) {
    const incident = d.incident(id)!;
    if (!isActive(incident)) {
      if (incident.resolvedAt === null || incident.resolvedAt < now - cfg.reopenWindowMs) d.forgetIncident(id);
      continue;
    }
    const meta = cfg.probes.get(incident.rootProbe);
    if (meta) {
      const openFor = now - incident.openedAt;
      const severity = escalateByTime(meta, incident.severity, cfg.environments[meta.environment], openFor);
      if (severity < incident.severity) {
        reclassify(d, incident, severity, { message: incident.message, reason: `open for ${formatDuration(openFor)}` });
      }
    }
    if (d.incident(id)!.maintenance) release(d, d.incident(id)!, cfg);
    remind(d, d.incident(id)!);
  }
  return d.result();
}

/**
 * The window or silence holding an incident's pages is over: an open incident pages now, as an
 * opening. Still covered by another (a silence added for a window running late), it stays held.
 */
function release(d: Draft, incident: Incident, cfg: EngineConfig): void {
  const hold = holdCovering(cfg, d.now, { environment: incident.environment, service: incident.service, probe: incident.rootProbe });
  if (hold) {
    if (hold.label !== incident.maintenance) d.patchIncident(incident.id, { maintenance: hold.label });
    return;
  }
  const ended = heldByName(incident.maintenance ?? '');
  if (incident.state === 'acknowledged') {
    d.patchIncident(incident.id, { maintenance: null });
    d.announce(incident.id, 'maintenance', { detail: `${ended.charAt(0).toUpperCase()}${ended.slice(1)} over; already acknowledged by ${incident.acknowledgedBy}` });
    return;
  }
  d.patchIncident(incident.id, { maintenance: null, respondBy: respondByFor(incident.severity, d.now), lastReminderAt: null, pagedSeverity: incident.severity });
  d.announce(incident.id, 'opened', {
    detail: `Still failing after ${ended} ended: ${clip(incident.message)}`,
    ...(incident.evidence.length === 0 ? {} : { evidence: incident.evidence[incident.evidence.length - 1]!.text }),
  });
}

function remind(d: Draft, incident: Incident): void {
  if (incident.state !== 'open' || incident.maintenance || incident.respondBy === null) return;
  const due = incident.lastReminderAt === null ? incident.respondBy : respondByFor(incident.severity, incident.lastReminderAt);
  if (due === null || d.now < due) return;
  d.patchIncident(incident.id, { lastReminderAt: d.now });
  // The first reminder is the respond-by time passing: what escalates beyond the first responder.
  const missed = incident.lastReminderAt === null ? { respondByMissed: true } : {};
  d.announce(incident.id, 'reminder', { detail: `Unacknowledged for ${formatMinutes(d.now - pagedAt(incident))}`, ...missed });
}

/**
 * How long each open, unacknowledged, paged incident has waited for a human (now − its last page),
 * the longest per environment and severity: what vigil_incident_unacknowledged_seconds shows.
 */
export function unacknowledged(
  incidents: Iterable<Incident>,
  now: number,
): Array<{ environment: string; severity: Severity; seconds: number }> {
  const longest = new Map<string, { environment: string; severity: Severity; seconds: number }>();
  for (const incident of incidents) {
    if (incident.state !== 'open' || incident.maintenance) continue;
    const seconds = Math.max(0, now - pagedAt(incident)) / 1000;
    const key = `${incident.environment}\u0000${incident.severity}`;
    const current = longest.get(key);
    if (!current || current.seconds < seconds) longest.set(key, { environment: incident.environment, severity: incident.severity, seconds });
  }
  return [...longest.values()];
}
