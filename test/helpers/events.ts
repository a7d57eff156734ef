// An IncidentEvent for notification tests: an S1 "Backend API down" opening on production, overridable.
import type { IncidentEvent } from '../../src/types.js';

export const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);

export function incidentEvent(over: Partial<IncidentEvent> = {}): IncidentEvent {
  return {
    type: 'opened',
    at: T0,
    incidentId: 1,
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    probe: 'backend-health',
    findingKey: 'backend-health',
    summary: 'Backend API down',
    message: 'status 502',
    openedAt: T0,
    durationMs: 0,
    respondBy: T0 + 1_800_000,
    detail: 'status 502',
    ...over,
  };
}
