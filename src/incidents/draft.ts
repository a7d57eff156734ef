// A copy-on-write working copy of the engine state for one step: records changes, events and timeline.
import type { Incident, IncidentEvent, IncidentEventType, Severity, SubjectState, TimelineEntry } from '../types.js';
import { outage } from './durations.js';
import { PersistentMap } from './persistent-map.js';
import type { EngineState, StepResult } from './state.js';

/** What an event says beyond the incident itself; probe and key default to the incident's root. */
export interface Announcement {
  /** Used verbatim (an operator's note must survive whole): clip finding text before it gets here. */
  detail: string;
  message?: string;
  probe?: string;
  findingKey?: string;
  evidence?: string;
  by?: string;
  previousSeverity?: Severity;
  previousSummary?: string;
  /** Where the person acted, when not through vigil (see Command). */
  via?: string;
  /** A reminder at the respond-by time itself: the first responder did not answer in time. */
  respondByMissed?: boolean;
  joined?: Array<{ id: number; summary: string }>;
  joinedInto?: number;
  /** Recorded and logged, paged to nobody (as inside a maintenance window). */
  held?: boolean;
}

export type ActiveIncident = Incident & { state: 'open' | 'acknowledged' };
export const isActive = (incident: Incident | undefined): incident is ActiveIncident =>
  incident !== undefined && incident.state !== 'resolved';

function sameSubject(a: SubjectState | undefined, b: SubjectState): boolean {
  return (
    a !== undefined &&
    a.key === b.key &&
    a.probe === b.probe &&
    a.ok === b.ok &&
    a.failures === b.failures &&
    a.successes === b.successes &&
    a.severity === b.severity &&
    a.since === b.since &&
    a.incidentId === b.incidentId
  );
}

/**
 * Never mutates the state it was made from: every changed subject or incident is a new object, so
 * the caller's state (and anything holding it, like the status page) stays valid. The maps are
 * persistent: a step costs what it changes, not the size of the fleet.
 */
export class Draft {
  readonly #base: EngineState;
  #subjects: PersistentMap<string, SubjectState>;
  #incidents: PersistentMap<number, Incident>;
  /** Undefined until needed when the base state came without it (one made by hand). */
  #keysByProbe: PersistentMap<string, readonly string[]> | undefined;
  #nextIncidentId: number;
  readonly #changedSubjects = new Set<string>();
  readonly #changedIncidents = new Set<number>();
  readonly #timeline: Array<{ incidentId: number; entry: TimelineEntry }> = [];
  readonly #events: IncidentEvent[] = [];
  /** The in-memory state differs from the base even if nothing needs writing (a forgotten incident). */
  #dirty = false;

  constructor(
    base: EngineState,
    readonly now: number,
  ) {
    this.#base = base;
    // A state the engine made already holds persistent maps; one made by hand is converted once.
    this.#subjects = PersistentMap.of(base.subjects);
    this.#incidents = PersistentMap.of(base.incidents);
    this.#keysByProbe = base.subjectKeysByProbe === undefined ? undefined : PersistentMap.of(base.subjectKeysByProbe);
    this.#nextIncidentId = base.nextIncidentId;
  }

  subject(key: string): SubjectState | undefined {
    return this.#subjects.get(key);
  }
  subjects(): IterableIterator<SubjectState> {
    return this.#subjects.values();
  }
  /** The keys of the subjects `probe` reported last. */
  keysOfProbe(probe: string): readonly string[] {
    this.#keysByProbe ??= keysByProbe(this.#subjects.values());
    return this.#keysByProbe.get(probe) ?? [];
  }
  /** The subjects of `keys` that exist, in the order subjects() gives them. */
  subjectsInOrder(keys: Iterable<string>): SubjectState[] {
    return this.#subjects.inOrder(new Set(keys)).flatMap((key) => this.#subjects.get(key) ?? []);
  }
  incident(id: number | null): Incident | undefined {
    return id === null ? undefined : this.#incidents.get(id);
  }
  incidents(): IterableIterator<Incident> {
    return this.#incidents.values();
  }

  /** Stores the subject; a value equal to the current one is no change, so a steady state writes nothing. */
  putSubject(next: SubjectState): SubjectState {
    const current = this.#subjects.get(next.key);
    if (sameSubject(current, next)) return current!;
    this.#subjects = this.#subjects.with(next.key, next);
    if (this.#keysByProbe !== undefined && current?.probe !== next.probe) {
      let index = this.#keysByProbe;
      if (current) index = index.with(current.probe, (index.get(current.probe) ?? []).filter((k) => k !== next.key));
      this.#keysByProbe = index.with(next.probe, [...(index.get(next.probe) ?? []), next.key]);
    }
    this.#changedSubjects.add(next.key);
    this.#dirty = true;
    return next;
  }

  patchSubject(key: string, patch: Partial<Omit<SubjectState, 'key'>>): void {
    const current = this.#subjects.get(key);
    if (current) this.putSubject({ ...current, ...patch });
  }

  /** Reserves the next incident id and stores the incident built with it. */
  createIncident(build: (id: number) => Incident): Incident {
    const incident = build(this.#nextIncidentId);
    this.#nextIncidentId += 1;
    this.#incidents = this.#incidents.with(incident.id, incident);
    this.#changedIncidents.add(incident.id);
    this.#dirty = true;
    return incident;
  }

  patchIncident(id: number, patch: Partial<Omit<Incident, 'id' | 'timeline'>>): Incident {
    const current = this.#incidents.get(id);
    if (!current) throw new Error(`incident ${id} is not in the engine state`);
    const next = { ...current, ...patch };
    this.#incidents = this.#incidents.with(id, next);
    this.#changedIncidents.add(id);
    this.#dirty = true;
    return next;
  }

  /** Drops a long-resolved incident from memory; the store keeps it, so this is no write. */
  forgetIncident(id: number): void {
    const next = this.#incidents.without(id);
    if (next === this.#incidents) return;
    this.#incidents = next;
    this.#dirty = true;
  }

  /** Appends the timeline entry and emits the event; call after the incident holds its new values. */
  announce(id: number, type: IncidentEventType, a: Announcement): Incident {
    const current = this.#incidents.get(id);
    if (!current) throw new Error(`incident ${id} is not in the engine state`);
    const { detail } = a;
    const entry: TimelineEntry = { at: this.now, event: type, detail };
    if (a.by !== undefined) entry.by = a.by;
    const incident = { ...current, timeline: [...current.timeline, entry] };
    this.#incidents = this.#incidents.with(id, incident);
    this.#changedIncidents.add(id);
    this.#timeline.push({ incidentId: id, entry });
    this.#dirty = true;

    const event: IncidentEvent = {
      type,
      at: this.now,
      incidentId: id,
      severity: incident.severity,
      environment: incident.environment,
      service: incident.service,
      probe: a.probe ?? incident.rootProbe,
      findingKey: a.findingKey ?? incident.rootKey,
      summary: incident.summary,
      message: a.message ?? incident.message,
      openedAt: incident.openedAt,
      // A reminder counts the wait for a human since the last page; every other event the current
      // failing period, so a flapping incident's [RESOLVED] counts this outage, not the first one.
      durationMs: type === 'reminder' ? this.now - pagedAt(incident) : outage(incident, this.now).currentMs,
      respondBy: incident.respondBy,
      detail,
    };
    if (a.previousSeverity !== undefined) event.previousSeverity = a.previousSeverity;
    if (a.evidence !== undefined) event.evidence = a.evidence;
    if (a.by !== undefined) event.by = a.by;
    if (a.previousSummary !== undefined) event.previousSummary = a.previousSummary;
    if (a.via !== undefined) event.via = a.via;
    if (a.respondByMissed === true) event.respondByMissed = true;
    if (a.joined !== undefined && a.joined.length > 0) event.joined = a.joined;
    if (a.joinedInto !== undefined) event.joinedInto = a.joinedInto;
    if (incident.maintenance || a.held === true) event.held = true;
    this.#events.push(event);
    return incident;
  }

  /** The new state and exactly what to write; the input state itself when nothing changed. */
  result(): StepResult {
    const state: EngineState = this.#dirty
      ? {
          subjects: this.#subjects,
          incidents: this.#incidents,
          nextIncidentId: this.#nextIncidentId,
          ...(this.#keysByProbe === undefined ? {} : { subjectKeysByProbe: this.#keysByProbe }),
        }
      : this.#base;
    return {
      state,
      events: this.#events,
      changed: {
        subjects: [...this.#changedSubjects].map((key) => this.#subjects.get(key)!),
        incidents: [...this.#changedIncidents].flatMap((id) => this.#incidents.get(id) ?? []),
        timeline: this.#timeline,
      },
    };
  }
}

/** Each probe's subject keys, in the subjects' order. */
export function keysByProbe(subjects: Iterable<SubjectState>): PersistentMap<string, readonly string[]> {
  const index = new Map<string, string[]>();
  for (const s of subjects) {
    const keys = index.get(s.probe);
    if (keys) keys.push(s.key);
    else index.set(s.probe, [s.key]);
  }
  return PersistentMap.of(index);
}

/** When the last opening or reopening happened: the start of the current unacknowledged stretch. */
export function pagedAt(incident: Incident): number {
  for (let i = incident.timeline.length - 1; i >= 0; i -= 1) {
    const entry = incident.timeline[i]!;
    if (entry.event === 'opened' || entry.event === 'reopened') return entry.at;
  }
  return incident.openedAt;
}
