// The incident transitions the engine shares between step, tick and commands: open, reopen, join, escalate, resolve.
import type { ProbeMeta } from '../config/types.js';
import type { Finding, Incident, Severity } from '../types.js';
import { classify, respondByFor } from './classify.js';
import { isActive, pagedAt, type Draft } from './draft.js';

export { pagedAt };
import { dependentsOf, incidentToJoin, isUpstream, upstreamToWaitFor } from './grouping.js';
import { holdCovering } from './hold.js';
import type { EngineConfig } from './state.js';
import { clip, formatDuration, summaryFor } from './wording.js';

/**
 * A failing subject at its threshold with no incident: joins the incident of something it depends
 * on; waits (returns undefined) while something it depends on is failing but not yet confirmed;
 * takes back an incident it was root of before a hand-over; else reopens its own if that resolved
 * within the reopen window (flapping), else opens one. Inside a maintenance window or under a silence
 * the incident is recorded but held: a 'maintenance' entry instead of a page, paged by tick() when it ends.
 */
export function openOrJoin(d: Draft, meta: ProbeMeta, finding: Finding, cfg: EngineConfig): Incident | undefined {
  const env = cfg.environments[meta.environment];
  const parent = incidentToJoin(d, finding.key, meta.id, cfg.probes);
  if (parent) return join(d, parent, finding.key, { message: finding.message, probe: meta.id });
  if (upstreamToWaitFor(d, finding.key, meta.id, cfg.probes)) return undefined;
  const former = formerRootOf(d, finding.key, meta.id, cfg);
  if (former) {
    const severity = classify(meta, finding, env, d.now - former.openedAt);
    return reroot(d, former, { key: finding.key, probe: meta.id, severity, message: finding.message }, cfg, `${finding.key} failing again`);
  }

  const scope = { environment: meta.environment, service: finding.service ?? meta.service };
  // Dependents that failed first and opened their own incidents: this cause takes them in.
  const dependents = dependentIncidents(d, finding.key, meta.id, cfg);
  const joined = dependents.map((i) => ({ id: i.id, summary: i.summary }));
  const hold = holdCovering(cfg, d.now, { ...scope, probe: meta.id });
  const previous = recentlyResolved(d, finding.key, cfg.reopenWindowMs);
  const evidence = finding.evidence === undefined ? [] : [{ at: d.now, source: finding.key, text: finding.evidence }];
  const withEvidence = finding.evidence === undefined ? {} : { evidence: finding.evidence };
  let incident: Incident;
  if (previous) {
    const severity = classify(meta, finding, env, d.now - previous.openedAt);
    d.patchIncident(previous.id, {
      state: 'open',
      severity,
      resolvedAt: null,
      // It paged again, so it needs a fresh acknowledgement and a fresh response clock.
      acknowledgedAt: null,
      acknowledgedBy: null,
      respondBy: hold ? null : respondByFor(severity, d.now),
      lastReminderAt: null,
      message: finding.message,
      evidence: [...previous.evidence, ...evidence],
      maintenance: hold?.label ?? null,
      pagedSeverity: hold ? null : severity,
    });
    d.patchSubject(finding.key, { incidentId: previous.id });
    const again = `${formatDuration(d.now - previous.resolvedAt!)} after it resolved: ${clip(finding.message)}`;
    incident = d.announce(previous.id, hold ? 'maintenance' : 'reopened', {
      detail: hold ? `Reopened ${hold.preposition} ${hold.name}, not paged until it ends, ${again}` : `Reopened ${again}`,
      message: finding.message,
      findingKey: finding.key,
      probe: meta.id,
      joined,
      ...withEvidence,
      ...(severity === previous.severity ? {} : { previousSeverity: previous.severity }),
    });
  } else {
    const severity = classify(meta, finding, env, 0);
    const opened = d.createIncident((id) => ({
      id,
      state: 'open',
      severity,
      ...scope,
      summary: summaryFor(meta, finding),
      rootProbe: meta.id,
      rootKey: finding.key,
      symptoms: [],
      openedAt: d.now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      respondBy: hold ? null : respondByFor(severity, d.now),
      lastReminderAt: null,
      message: finding.message,
      timeline: [],
      evidence,
      detectedAt: d.subject(finding.key)?.since ?? d.now,
      pagedSeverity: hold ? null : severity,
      ...(hold ? { maintenance: hold.label } : {}),
    }));
    d.patchSubject(finding.key, { incidentId: opened.id });
    const failing = `${finding.key} failing: ${clip(finding.message)}`;
    incident = d.announce(opened.id, hold ? 'maintenance' : 'opened', {
      detail: hold ? `${capitalize(hold.preposition)} ${hold.name}, not paged until it ends: ${failing}` : failing,
      message: finding.message,
      joined,
      ...withEvidence,
    });
  }
  for (const dependent of dependents) takeIn(d, incident, dependent);
  adoptWaiting(d, d.incident(incident.id)!, cfg);
  return d.incident(incident.id);
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** Adds a failing subject to an incident as a symptom: a timeline entry, never a page. */
function join(d: Draft, parent: Incident, key: string, what: { message?: string; probe?: string; why?: string }): Incident {
  const symptoms = parent.symptoms.includes(key) ? parent.symptoms : [...parent.symptoms, key];
  d.patchIncident(parent.id, { symptoms });
  d.patchSubject(key, { incidentId: parent.id });
  return d.announce(parent.id, 'symptom', {
    detail: `${key} failing too${what.why ?? ''}${what.message === undefined ? '' : `: ${clip(what.message)}`}`,
    ...(what.message === undefined ? {} : { message: what.message }),
    ...(what.probe === undefined ? {} : { probe: what.probe }),
    findingKey: key,
  });
}

/** Active incidents of other roots that depend on this subject: they are its symptoms, not causes of their own. */
function dependentIncidents(d: Draft, key: string, probeId: string, cfg: EngineConfig): Incident[] {
  const found: Incident[] = [];
  for (const other of d.incidents()) {
    if (!isActive(other) || other.rootKey === key) continue;
    if (isUpstream({ key, probe: probeId }, other.rootProbe, cfg.probes)) found.push(other);
  }
  return found.sort((a, b) => a.id - b.id);
}

/**
 * A root cause that failed after its symptom: the symptom's incident joins the root's (its members
 * become symptoms there) and is resolved, quietly, with a note pointing to the root's incident. The
 * root's opening already named it in #ops, so its resolution pages nobody and drafts no review.
 */
function takeIn(d: Draft, root: Incident, other: Incident): void {
  const members = [other.rootKey, ...other.symptoms].filter((key) => d.subject(key)?.incidentId === other.id);
  for (const key of members) d.patchSubject(key, { incidentId: root.id });
  const current = d.incident(root.id)!;
  const added = members.filter((k) => k !== current.rootKey && !current.symptoms.includes(k));
  d.patchIncident(root.id, { symptoms: [...current.symptoms, ...added] });
  d.announce(root.id, 'symptom', {
    detail: `${other.rootKey} failing too (it had opened #${other.id}, ${other.summary}): ${clip(other.message)}`,
    message: other.message,
    probe: other.rootProbe,
    findingKey: other.rootKey,
  });
  const pointer = `Joined #${root.id} (${root.summary}) as a symptom of its root cause: followed there`;
  d.announce(other.id, 'note', { detail: pointer, by: 'vigil' });
  d.patchIncident(other.id, { state: 'resolved', resolvedAt: d.now });
  d.announce(other.id, 'resolved', { detail: pointer, joinedInto: root.id, held: true });
}

/**
 * Failures confirmed while this incident's root was still confirming its own join it now. Only the
 * subjects of probes that depend on the root are looked at (found through the indexes).
 */
function adoptWaiting(d: Draft, incident: Incident, cfg: EngineConfig): void {
  const root = { key: incident.rootKey, probe: incident.rootProbe };
  const waiting = d.subjectsInOrder(dependentsOf(root, cfg.probes).flatMap((probe) => d.keysOfProbe(probe)));
  for (const subject of waiting) {
    if (subject.ok !== false || subject.incidentId !== null || subject.key === incident.rootKey) continue;
    const meta = cfg.probes.get(subject.probe);
    if (!meta || subject.failures < meta.failureThreshold) continue;
    join(d, d.incident(incident.id)!, subject.key, { probe: meta.id, why: ` (held back until ${incident.rootKey} was confirmed)` });
  }
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
    // Paged at this level already since it (re)opened (a wrong password that turns into "refused"
    // at every outage, and back): recorded and logged, not paged again, the running clock kept.
    const paged = incident.pagedSeverity === undefined ? previous : incident.pagedSeverity;
    const again = paged !== null && severity >= paged;
    if (again) {
      d.patchIncident(incident.id, { severity, message: why.message });
      d.announce(incident.id, 'escalated', {
        detail: `Escalated from ${previous} to ${severity} again, already paged at ${paged}: ${reason}`,
        message: why.message,
        previousSeverity: previous,
        held: true,
      });
      return;
    }
    const respondBy = incident.maintenance ? null : respondByFor(severity, d.now);
    d.patchIncident(incident.id, { severity, respondBy, lastReminderAt: null, message: why.message, ...(incident.maintenance ? {} : { pagedSeverity: severity }) });
    d.announce(incident.id, 'escalated', {
      detail: `Escalated from ${previous} to ${severity}: ${reason}`,
      message: why.message,
      previousSeverity: previous,
      ...(why.evidence === undefined ? {} : { evidence: why.evidence }),
    });
    return;
  }
  const respondBy = incident.maintenance || respondByFor(severity, d.now) === null ? null : (incident.respondBy ?? respondByFor(severity, d.now));
  d.patchIncident(incident.id, { severity, respondBy, message: why.message });
  d.announce(incident.id, 'deescalated', {
    detail: `De-escalated from ${previous} to ${severity}: ${reason}`,
    message: why.message,
    previousSeverity: previous,
  });
}

/**
 * Resolves an active incident and lets its members go. When the root recovered (no `by`) while
 * symptoms still fail, the incident is handed over to the most upstream of them instead. With `by`
 * (a human resolving it) members that still fail restart their failure count, so it reopens only
 * if the failure is confirmed again. An S1 or S2 announces its post-incident review draft.
 */
export function resolve(
  d: Draft,
  incident: Incident,
  cfg: EngineConfig,
  how: { detail: string; message?: string; by?: string; via?: string },
): Incident {
  if (how.by === undefined) {
    const handedOver = handOver(d, incident, cfg);
    if (handedOver) return handedOver;
  }
  d.patchIncident(incident.id, { state: 'resolved', resolvedAt: d.now });
  const resolved = d.announce(incident.id, 'resolved', how);
  for (const key of [incident.rootKey, ...incident.symptoms]) {
    const subject = d.subject(key);
    if (!subject || subject.incidentId !== incident.id) continue;
    d.patchSubject(key, { incidentId: null, ...(how.by !== undefined && subject.ok === false ? { failures: 0 } : {}) });
  }
  if (resolved.severity !== 'S1' && resolved.severity !== 'S2') return resolved;
  return d.announce(incident.id, 'review', { detail: `Post-incident review draft: ${reviewLink(cfg, incident.id)}` });
}

export function reviewLink(cfg: Pick<EngineConfig, 'publicUrl'>, id: number): string {
  return cfg.publicUrl ? `${cfg.publicUrl.replace(/\/+$/, '')}/status/incidents/${id}` : `run "vigil review ${id}"`;
}

interface NewRoot {
  key: string;
  probe: string;
  severity: Severity;
  message: string;
  service?: string;
}

/**
 * The root recovered but members still fail: the most upstream of them (nothing else still failing
 * is upstream of it; then the worst severity, then the earliest to join) becomes the root. Those
 * that do not depend on it are another cause now and open (or join) their own incident. Only a
 * member seen failing since the root began to pass counts (failures > 0, see the engine's
 * forgetSymptomFailures): a result from the outage itself is stale, and handing over on it would
 * page for something that passes a moment later.
 */
function handOver(d: Draft, incident: Incident, cfg: EngineConfig): Incident | undefined {
  const failing = incident.symptoms.flatMap((key) => {
    const subject = d.subject(key);
    const stillFailing = subject !== undefined && subject.incidentId === incident.id && subject.ok === false && subject.failures > 0;
    return stillFailing && cfg.probes.has(subject.probe) ? [subject] : [];
  });
  const rootBackSince = d.subject(incident.rootKey)?.since ?? d.now;
  const tops = failing.filter((c) => !failing.some((o) => o !== c && isUpstream(o, c.probe, cfg.probes)));
  const next = [...tops].sort((a, b) => (a.severity ?? 'S4').localeCompare(b.severity ?? 'S4'))[0];
  if (!next) return undefined;
  const meta = cfg.probes.get(next.probe)!;
  const handed = reroot(
    d,
    incident,
    { key: next.key, probe: next.probe, severity: next.severity ?? meta.severity, message: `Still failing after ${incident.rootKey} recovered` },
    cfg,
    'passing again',
  );
  for (const other of failing) {
    if (other === next || isUpstream(next, other.probe, cfg.probes)) continue;
    const otherMeta = cfg.probes.get(other.probe)!;
    d.patchSubject(other.key, { incidentId: null });
    d.patchIncident(incident.id, { symptoms: d.incident(incident.id)!.symptoms.filter((k) => k !== other.key) });
    // Failing without a break since before the root came back, it was confirmed when it joined.
    const confirmed = other.failures >= otherMeta.failureThreshold || other.since < rootBackSince;
    if (!confirmed) continue;
    const finding: Finding = {
      key: other.key,
      ok: false,
      message: `Still failing after ${incident.rootKey} recovered; not caused by ${next.key}`,
      ...(other.severity === null ? {} : { severity: other.severity }),
    };
    openOrJoin(d, otherMeta, finding, cfg);
  }
  return d.incident(handed.id);
}

/**
 * Makes `root` the root of an active incident, announced as a hand-over (it pages like an opening).
 * The old root leaves it (remembered in formerRoots) or, when it depends on the new root, stays as
 * a symptom. An unacknowledged incident gets a fresh response clock; an acknowledged one keeps its owner.
 */
export function reroot(d: Draft, incident: Incident, root: NewRoot, cfg: EngineConfig, why: string): Incident {
  const meta = cfg.probes.get(root.probe)!;
  const oldRoot = d.subject(incident.rootKey);
  const oldStays = oldRoot !== undefined && oldRoot.ok === false && isUpstream(root, oldRoot.probe, cfg.probes);
  // Kept in order even when a former root takes the incident back: the first stays the first failing probe.
  const formerRoots = [...(incident.formerRoots ?? []), incident.rootKey];
  const symptoms = [...incident.symptoms.filter((k) => k !== root.key), ...(oldStays ? [incident.rootKey] : [])];
  const summary = summaryFor(meta, { key: root.key, ...(root.service === undefined ? {} : { service: root.service }) });
  const open = incident.state === 'open' && !incident.maintenance;
  d.patchIncident(incident.id, {
    rootKey: root.key,
    rootProbe: root.probe,
    service: root.service ?? meta.service,
    summary,
    severity: root.severity,
    symptoms,
    formerRoots,
    message: root.message,
    ...(open ? { respondBy: respondByFor(root.severity, d.now), lastReminderAt: null } : {}),
    ...(incident.maintenance ? {} : { pagedSeverity: root.severity }),
  });
  if (oldRoot && !oldStays && oldRoot.incidentId === incident.id) d.patchSubject(incident.rootKey, { incidentId: null });
  d.patchSubject(root.key, { incidentId: incident.id });
  return d.announce(incident.id, 'handed_over', {
    detail: `Handed over from ${incident.rootKey} (${why}) to ${root.key}: ${clip(root.message)}`,
    message: root.message,
    previousSummary: incident.summary,
    ...(root.severity === incident.severity ? {} : { previousSeverity: incident.severity }),
  });
}

/** An active incident this subject was root of before a hand-over, and whose new root depends on it. */
function formerRootOf(d: Draft, key: string, probeId: string, cfg: EngineConfig): Incident | undefined {
  for (const incident of d.incidents()) {
    if (!isActive(incident) || !(incident.formerRoots ?? []).includes(key)) continue;
    if (isUpstream({ key, probe: probeId }, incident.rootProbe, cfg.probes)) return incident;
  }
  return undefined;
}
