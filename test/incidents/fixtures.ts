// Test fixtures for the incident engine: probe metas, a fake clock, a frozen-state harness and a store stand-in.
import type { ProbeMeta } from '../../src/config/types.js';
import { command, initialState, step, tick } from '../../src/incidents/engine.js';
import type { Command, CommandResult, EngineConfig, EngineState, StepResult } from '../../src/incidents/state.js';
import type { Finding, Incident, SubjectState } from '../../src/types.js';

export const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
export const SECOND = 1_000;
export const MINUTE = 60_000;

export function meta(id: string, over: Partial<ProbeMeta> = {}): ProbeMeta {
  return {
    id,
    type: 'http',
    environment: 'production',
    service: 'backend',
    severity: 'S1',
    summary: `${id} down`,
    intervalMs: 30 * SECOND,
    schedule: null,
    timeoutMs: 10 * SECOND,
    failureThreshold: 2,
    successThreshold: 2,
    dependsOn: [],
    implicitDeps: [],
    enabled: true,
    escalate: [],
    ...over,
  };
}

export function config(probes: ProbeMeta[]): EngineConfig {
  return {
    probes: new Map(probes.map((p) => [p.id, p])),
    environments: { production: { severityCap: null }, staging: { severityCap: 'S3' }, dev: { severityCap: 'S4' } },
    reopenWindowMs: 10 * MINUTE,
  };
}

export const fail = (key: string, message = `${key} refused`, extra: Partial<Finding> = {}): Finding => ({
  key,
  ok: false,
  message,
  evidence: `evidence of ${key}`,
  ...extra,
});
export const pass = (key: string, extra: Partial<Finding> = {}): Finding => ({ key, ok: true, message: `${key} ok`, ...extra });

/**
 * Freezes everything reachable, Maps included (their writers throw), so any mutation of an input
 * state by the engine fails the test that caused it — ESM runs in strict mode, where writes throw.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    const refuse = (): never => {
      throw new TypeError('mutated a frozen Map');
    };
    for (const [k, v] of value) {
      deepFreeze(k);
      deepFreeze(v);
    }
    Object.assign(value, { set: refuse, delete: refuse, clear: refuse });
  } else {
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return Object.freeze(value);
}

/** What a store would keep from `changed`: the latest row of each subject and incident. */
export class StoreStandIn {
  subjects = new Map<string, SubjectState>();
  incidents = new Map<number, Incident>();
  write(result: StepResult): void {
    for (const s of result.changed.subjects) this.subjects.set(s.key, structuredClone(s));
    for (const i of result.changed.incidents) this.incidents.set(i.id, structuredClone(i));
  }
  load(): { subjects: SubjectState[]; incidents: Incident[]; nextIncidentId: number } {
    return {
      subjects: [...this.subjects.values()],
      incidents: [...this.incidents.values()],
      nextIncidentId: Math.max(0, ...this.incidents.keys()) + 1,
    };
  }
}

/** Drives the engine the way the daemon does; every input state is frozen before the engine sees it. */
export class Harness {
  state: EngineState;
  now = T0;
  readonly store = new StoreStandIn();
  constructor(
    public cfg: EngineConfig,
    state: EngineState = initialState(),
  ) {
    this.state = state;
  }
  at(ms: number): this {
    this.now = T0 + ms;
    return this;
  }
  run(probe: string, ...findings: Finding[]): StepResult {
    const result = step(deepFreeze(this.state), { probe, findings }, this.now, this.cfg);
    this.state = result.state;
    this.store.write(result);
    return result;
  }
  /** Runs the same findings `times` times, one interval apart, and returns every result. */
  repeat(times: number, probe: string, ...findings: Finding[]): StepResult[] {
    const results: StepResult[] = [];
    for (let i = 0; i < times; i += 1) {
      if (i > 0) this.now += 30 * SECOND;
      results.push(this.run(probe, ...findings));
    }
    return results;
  }
  tick(): StepResult {
    const result = tick(deepFreeze(this.state), this.now, this.cfg);
    this.state = result.state;
    this.store.write(result);
    return result;
  }
  cmd(cmd: Command): CommandResult {
    const result = command(deepFreeze(this.state), cmd, this.now, this.cfg);
    if (result.ok) {
      this.state = result.state;
      this.store.write(result);
    }
    return result;
  }
  incident(id: number): Incident {
    const incident = this.state.incidents.get(id);
    if (!incident) throw new Error(`no incident ${id} in the engine state`);
    return incident;
  }
}

export const types = (r: StepResult): string[] => r.events.map((e) => e.type);
export const isEmpty = (r: StepResult): boolean =>
  r.events.length === 0 && r.changed.subjects.length === 0 && r.changed.incidents.length === 0 && r.changed.timeline.length === 0;
