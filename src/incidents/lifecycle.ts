// The incident transitions the engine shares between step, tick and commands: open, reopen, join, escalate, resolve.
import type { ProbeMeta } from '../config/types.js';
import type { Finding, Incident, Severity } from '../types.js';
import { classify, respondByFor, responsePeriodMs } from './classify.js';
import { isActive, type Draft } from './draft.js';
import { incidentToJoin } from './grouping.js';
import type { EngineConfig } from './state.js';
import { clip, formatDuration, summaryFor } from './wording.js';

/**
 * A failing subject at its threshold with no incident: joins the incident of something it depends
 * on, else reopens its own if that resolved within the reopen window (flapping), else opens one.
 */
export function openOrJoin(d: Draft, meta: ProbeMeta, finding: Finding, cfg: EngineConfig): Incident {
  const env = cfg.environments[meta.environment];
  const parent = incidentToJoin(d, finding.key, meta.id, cfg.probes);
  if (parent) {
    const symptoms = parent.symptoms.includes(finding.key) ? parent.symptoms : [...parent.symptoms, finding.key];
    d.patchIncident(parent.id, { symptoms });
    d.patchSubject(finding.key, { incidentId: parent.id });
    return d.announce(parent.id, 'symptom', {
      detail: `${finding.key} failing too: ${clip(finding.message)}`,
      message: finding.message,
      probe: meta.id,
      findingKey: finding.key,
    });
  }

  const previous = recentlyResolved(d, finding.key, cfg.reopenWindowMs);
  const evidence = finding.evidence === undefined ? [] : [{ at: d.now, source: finding.key, text: finding.evidence }];
  if (previous) {
    const severity = classify(meta, finding, env, d.now - previous.openedAt);
    d.patchIncident(previous.id, {
      state: 'open',
      severity,
      resolvedAt: null,
      // It paged again, so it needs a fresh acknowledgement and a fresh response clock.
      acknowledgedAt: null,
      acknowledgedBy: null,
      respondBy: respondByFor(severity, d.now),
      lastReminderAt: null,
      message: finding.message,
      evidence: [...previous.evidence, ...evidence],
    });
    d.patchSubject(finding.key, { incidentId: previous.id });
    return d.announce(previous.id, 'reopened', {
      detail: `Reopened ${formatDuration(d.now - previous.resolvedAt!)} after it resolved: ${clip(finding.message)}`,
      message: finding.message,
      findingKey: finding.key,
      probe: meta.id,
      ...(finding.evidence === undefined ? {} : { evidence: finding.evidence }),
      ...(severity === previous.severity ? {} : { previousSeverity: previous.severity }),
    });
  }

  const severity = classify(meta, finding, env, 0);
  const opened = d.createIncident((id) => ({
    id,
    state: 'open',
    severity,
    environment: meta.environment,
    service: finding.service ?? meta.service,
    summary: summaryFor(meta, finding),
    rootProbe: meta.id,
    rootKey: finding.key,
    symptoms: [],
    openedAt: d.now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    respondBy: respondByFor(severity, d.now),
    lastReminderAt: null,
    message: finding.message,
    timeline: [],
    evidence,
  }));
  d.patchSubject(finding.key, { incidentId: opened.id });
  return d.announce(opened.id, 'opened', {
    detail: `${finding.key} failing: ${clip(finding.message)}`,
    message: finding.message,
    ...(finding.evidence === undefined ? {} : { evidence: finding.evidence }),
  });
}

function recentlyResolved(d: Draft, key: string, windowMs: number): Incident | undefined {
  let found: Incident | undefined;
  for (const incident of d.incidents()) {
    if (incident.state !== 'resolved' || incident.rootKey !== key || incident.resolvedAt === null) continue;
    if (incident.resolvedAt < d.now - windowMs) continue;
    if (!found || incident.resolvedAt > found.resolvedAt!) found = incident;
  }
  return found;
}

/**
 * A new severity for an active incident. A rise pages and restarts the response clock; a fall is
 * recorded only, and keeps the tighter deadline already running unless the new level has no clock.
 * An acknowledged incident stays acknowledged: its owner is paged about the rise but keeps it.
 */
export function reclassify(
  d: Draft,
  incident: Incident,
  severity: Severity,
  why: { message: string; evidence?: string; reason?: string },
): void {
  const previous = incident.severity;
  if (severity === previous) return;
  const reason = why.reason ?? clip(why.message);
  if (severity < previous) {
    d.patchIncident(incident.id, { severity, respondBy: respondByFor(severity, d.now), lastReminderAt: null, message: why.message });
    d.announce(incident.id, 'escalated', {
      detail: `Escalated from ${previous} to ${severity}: ${reason}`,
      message: why.message,
      previousSeverity: previous,
      ...(why.evidence === undefined ? {} : { evidence: why.evidence }),
    });
    return;
  }
  const respondBy = responsePeriodMs(severity) === null ? null : (incident.respondBy ?? respondByFor(severity, d.now));
  d.patchIncident(incident.id, { severity, respondBy, message: why.message });
  d.announce(incident.id, 'deescalated', {
    detail: `De-escalated from ${previous} to ${severity}: ${reason}`,
    message: why.message,
    previousSeverity: previous,
  });
}

/**
 * Resolves an active incident and lets its members go. With `by` (a human resolving it) members that
 * still fail restart their failure count, so it reopens only if the failure is confirmed again.
 * Without it (the root recovered) still-failing symptoms open their own incident at once.
 * TODO(issue 6): hand the incident on to a still-failing symptom instead of opening a new one.
 */
export function resolve(
  d: Draft,
  incident: Incident,
  cfg: EngineConfig,
  how: { detail: string; message?: string; by?: string },
): Incident {
  d.patchIncident(incident.id, { state: 'resolved', resolvedAt: d.now });
  const resolved = d.announce(incident.id, 'resolved', how);
  for (const key of [incident.rootKey, ...incident.symptoms]) {
    const subject = d.subject(key);
    if (!subject || subject.incidentId !== incident.id) continue;
    const stillFailing = subject.ok === false;
    d.patchSubject(key, { incidentId: null, ...(how.by !== undefined && stillFailing ? { failures: 0 } : {}) });
    if (how.by !== undefined || key === incident.rootKey || !stillFailing) continue;
    const meta = cfg.probes.get(subject.probe);
    if (!meta || subject.failures < meta.failureThreshold) continue;
    const finding: Finding = {
      key,
      ok: false,
      message: `Still failing after incident #${incident.id} (${incident.summary}) resolved`,
      ...(subject.severity === null ? {} : { severity: subject.severity }),
    };
    openOrJoin(d, meta, finding, cfg);
  }
  return resolved;
}

/** When the last opening or reopening happened: the start of the current unacknowledged stretch. */
export function pagedAt(incident: Incident): number {
  for (let i = incident.timeline.length - 1; i >= 0; i -= 1) {
    const entry = incident.timeline[i]!;
    if (entry.event === 'opened' || entry.event === 'reopened') return entry.at;
  }
  return incident.openedAt;
}
