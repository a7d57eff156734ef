// The incident engine's state, inputs and outputs: plain data, so the engine stays a pure function.
import type { ProbeMeta } from '../config/types.js';
import type { Evidence, Finding, Incident, IncidentEvent, Severity, SubjectState, TimelineEntry } from '../types.js';
import type { MaintenanceWindow } from './maintenance.js';
import type { Silence } from './silences.js';

export interface EngineConfig {
  probes: ReadonlyMap<string, ProbeMeta>;
  environments: Readonly<Record<string, { severityCap: Severity | null }>>;
  /** An incident whose subject fails again within this long of resolving reopens (10 min). */
  reopenWindowMs: number;
  /** The config's maintenance windows: incidents opened inside one are recorded, paged at its end. */
  maintenance?: readonly MaintenanceWindow[];
  /** Operators' silences (from the store): a matched incident is held like inside a maintenance window. */
  silences?: readonly Silence[];
  /** server.public_url, for the review link in #ops; without it the line names `vigil review ID`. */
  publicUrl?: string | null;
}

export interface EngineState {
  subjects: ReadonlyMap<string, SubjectState>;
  /** Open and acknowledged incidents, plus those resolved within the reopen window. */
  incidents: ReadonlyMap<number, Incident>;
  nextIncidentId: number;
  /**
   * The keys of the subjects each probe reported last, so grouping finds what a probe depends on
   * without walking every subject. Derived from `subjects`: a state made without it gets it on use.
   */
  subjectKeysByProbe?: ReadonlyMap<string, readonly string[]>;
}

export interface EngineChange {
  subjects: SubjectState[];
  incidents: Incident[];
  timeline: Array<{ incidentId: number; entry: TimelineEntry }>;
}

export interface StepResult {
  state: EngineState;
  events: IncidentEvent[];
  /** Exactly what differs from the input state, for the store to write. Empty when nothing did. */
  changed: EngineChange;
}

export interface RunInput {
  probe: string;
  findings: Finding[];
}

/**
 * `via` names where a person acted when it was not vigil itself (an ack made in Better Stack's phone
 * app): the announcement says so, and the change is not sent back there.
 */
export type Command =
  | { type: 'ack'; incidentId: number; by: string; via?: string }
  | { type: 'resolve'; incidentId: number; by: string; note?: string; via?: string }
  | { type: 'note'; incidentId: number; by: string; text: string };

/**
 * Triage output to attach (already masked and cut): recorded on the incident, announced to nobody.
 * Apart from the operator's Command so the HTTP API, which dispatches those, cannot send one.
 */
export interface EvidenceCommand {
  type: 'evidence';
  incidentId: number;
  items: Evidence[];
}

/** Everything the engine's command() takes. */
export type EngineCommand = Command | EvidenceCommand;

export type CommandResult =
  | ({ ok: true; incident: Incident } & StepResult)
  | { ok: false; code: 'not_found' | 'conflict'; message: string };
