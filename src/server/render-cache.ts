// Keeps the last rendering of a page while what it shows stays the same, so a thousand readers of
// /status cost one render. "The same" is a key of object identities (what the pages show of the
// engine state, config, silences: each is replaced, never mutated, when it changes) plus an age
// limit for what only the clock changes ("last checked", "open for 5m", uptime counts, maintenance
// windows).
import type { EngineChange, EngineState } from '../incidents/state.js';

export const RENDER_MAX_AGE_MS = 1_000;

export class RenderCache<T> {
  #key: readonly unknown[] | null = null;
  #at = 0;
  #value: T | undefined;

  constructor(readonly maxAgeMs = RENDER_MAX_AGE_MS) {}

  /** The kept rendering when `key` matches and it is younger than maxAgeMs at `now`; else render() anew. */
  get(key: readonly unknown[], now: number, render: () => T): T {
    const kept = this.#key;
    if (kept !== null && now >= this.#at && now - this.#at < this.maxAgeMs && kept.length === key.length && kept.every((k, i) => k === key[i])) {
      return this.#value as T;
    }
    const value = render();
    this.#key = key;
    this.#at = now;
    this.#value = value;
    return value;
  }
}

/**
 * Whether an engine step changed what the status pages show: an incident or its timeline, a new
 * subject, or a subject's health, since, severity or incident. A streak counter climbing towards its
 * threshold (every run of a fleet's first minutes, and of a probe starting to fail) shows nothing.
 */
export function showsChange(before: EngineState, changed: EngineChange): boolean {
  if (changed.incidents.length > 0 || changed.timeline.length > 0) return true;
  return changed.subjects.some((s) => {
    const was = before.subjects.get(s.key);
    return was === undefined || was.ok !== s.ok || was.since !== s.since || was.severity !== s.severity || was.incidentId !== s.incidentId;
  });
}
