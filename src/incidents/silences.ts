// Silences (as in Alertmanager): an operator's "don't page about this for a while", matched by probe, service and environment.

export interface SilenceMatchers {
  probe?: string;
  service?: string;
  environment?: string;
}

export interface Silence {
  id: number;
  matchers: SilenceMatchers;
  startsAt: number;
  /** Exclusive; set to the expiry time when someone expires it early. */
  endsAt: number;
  reason: string;
  /** Who added it. */
  by: string;
  /** Who expired it early, if anyone. */
  expiredBy: string | null;
}

/** What an incident is matched on: its scope and its root probe. */
export interface HoldScope {
  environment: string;
  service: string;
  probe: string;
}

export const isSilenceActive = (s: Silence, now: number): boolean => s.startsAt <= now && now < s.endsAt;

/** Every matcher set equals the scope's value; a silence always has at least one. */
export function silenceMatches(s: Silence, scope: HoldScope): boolean {
  const { probe, service, environment } = s.matchers;
  if (probe === undefined && service === undefined && environment === undefined) return false;
  return (probe === undefined || probe === scope.probe) && (service === undefined || service === scope.service) && (environment === undefined || environment === scope.environment);
}

/** The active silence covering `scope` that ends last, so the incident is held as long as any holds it. */
export function silenceCovering(silences: readonly Silence[], now: number, scope: HoldScope): Silence | undefined {
  let found: Silence | undefined;
  for (const s of silences) {
    if (!isSilenceActive(s, now) || !silenceMatches(s, scope)) continue;
    if (!found || s.endsAt > found.endsAt) found = s;
  }
  return found;
}

/** How an incident names the silence holding it (its `maintenance` field, the timeline). */
export const silenceLabel = (s: Pick<Silence, 'id'>): string => `silence #${s.id}`;
const SILENCE_LABEL = /^silence #\d+$/;
export const isSilenceLabel = (label: string): boolean => SILENCE_LABEL.test(label);

/** "probe=backend-health, environment=production": the matchers as people write them. */
export function describeMatchers(m: SilenceMatchers): string {
  return (['probe', 'service', 'environment'] as const)
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k}=${m[k]}`)
    .join(', ');
}
