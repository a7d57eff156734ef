// What holds an incident's pages: a maintenance window or a silence. One notion, so both behave alike.
import { windowCovering, type MaintenanceWindow } from './maintenance.js';
import { describeMatchers, isSilenceLabel, silenceCovering, silenceLabel, type HoldScope, type Silence } from './silences.js';

export interface Hold {
  /** Stored on the incident (`maintenance`): the window's label, or "silence #ID". */
  label: string;
  /** How a sentence names it: `maintenance window "weekly restart"`, `silence #3 (deploy, by alice; probe=api)`. */
  name: string;
  /** "inside" a window, "under" a silence. */
  preposition: 'inside' | 'under';
}

/** The maintenance window, else the silence, that holds pages about `scope` at `now`. */
export function holdCovering(
  cfg: { maintenance?: readonly MaintenanceWindow[]; silences?: readonly Silence[] },
  now: number,
  scope: HoldScope,
): Hold | undefined {
  const window = windowCovering(cfg.maintenance ?? [], now, scope);
  if (window) return { label: window.label, name: `maintenance window "${window.label}"`, preposition: 'inside' };
  const silence = silenceCovering(cfg.silences ?? [], now, scope);
  if (silence) {
    const label = silenceLabel(silence);
    return { label, name: `${label} (${silence.reason}, by ${silence.by}; ${describeMatchers(silence.matchers)})`, preposition: 'under' };
  }
  return undefined;
}

/** A stored hold label as a sentence names it once the hold is over. */
export function heldByName(label: string): string {
  return isSilenceLabel(label) ? label : `maintenance window "${label}"`;
}
