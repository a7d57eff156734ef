import t from 'tap';
import { opsLine, logFields } from '../../src/notify/messages.js';
import { NO_DISCORD, route, type RouteChannels } from '../../src/notify/route.js';
import type { IncidentEvent, IncidentEventType, Severity } from '../../src/types.js';
import { incidentEvent } from '../helpers/events.js';


function event(type: IncidentEventType, severity: Severity): IncidentEvent {
  return incidentEvent({
    type,
    incidentId: 3,
    severity,
    ...(type === 'escalated' ? { previousSeverity: 'S4' as const } : {}),
    durationMs: 90_000,
    respondBy: null,
    ...(type === 'acknowledged' ? { by: 'alice' } : {}),
  });
}

const ALL_DISCORD: RouteChannels = { discord: { errors: true, warnings: true, ops: true } };
const SEVERITIES: Severity[] = ['S1', 'S2', 'S3', 'S4'];
const PAGING: IncidentEventType[] = ['opened', 'reopened', 'escalated', 'reminder', 'acknowledged', 'resolved'];
const SILENT: IncidentEventType[] = ['symptom', 'deescalated', 'note'];

function channels(routes: ReturnType<typeof route>): string[] {
  return routes.map((r) => `${r.sink}:${r.channel}`);
}

t.test('without Discord every paging event goes to the console sink, whatever its severity', async (t) => {
  for (const severity of SEVERITIES) {
    for (const type of PAGING) {
      const e = event(type, severity);
      const routes = route(e, NO_DISCORD);
      t.strictSame(
        routes,
        [{ sink: 'console', channel: 'ops', body: { text: opsLine(e), fields: logFields(e) } }],
        `${type} ${severity}`,
      );
    }
    for (const type of SILENT) t.strictSame(route(event(type, severity), NO_DISCORD), [], `${type} ${severity}`);
  }
});

t.test('with Discord: the routing table of docs/messages.md', async (t) => {
  const expected: Record<Severity, Record<string, string[]>> = {
    S1: {
      opened: ['discord:ops', 'discord:errors'],
      reopened: ['discord:ops', 'discord:errors'],
      escalated: ['discord:ops', 'discord:errors'],
      reminder: ['discord:ops'],
      acknowledged: ['discord:ops'],
      resolved: ['discord:ops', 'discord:errors'],
    },
    S2: {
      opened: ['discord:ops', 'discord:errors'],
      reopened: ['discord:ops', 'discord:errors'],
      escalated: ['discord:ops', 'discord:errors'],
      reminder: ['discord:ops'],
      acknowledged: ['discord:ops'],
      resolved: ['discord:ops', 'discord:errors'],
    },
    S3: {
      opened: ['discord:warnings'],
      reopened: ['discord:warnings'],
      escalated: ['discord:warnings'],
      reminder: ['discord:ops'],
      acknowledged: ['discord:ops'],
      resolved: ['discord:ops', 'discord:warnings'],
    },
    S4: { opened: [], reopened: [], escalated: [], reminder: [], acknowledged: [], resolved: [] },
  };
  for (const severity of SEVERITIES) {
    for (const type of PAGING) {
      const e = event(type, severity);
      const routes = route(e, ALL_DISCORD);
      t.strictSame(channels(routes), expected[severity][type], `${type} ${severity}`);
      // The Discord sink builds its own payload from the event.
      for (const r of routes) t.equal(r.body, e, `${type} ${severity} carries the event`);
    }
    for (const type of SILENT) t.strictSame(route(event(type, severity), ALL_DISCORD), [], `${type} ${severity}`);
  }
});

t.test('a Discord channel without a webhook is skipped, and does not fall back to the console', async (t) => {
  const errorsOnly: RouteChannels = { discord: { errors: true, warnings: false, ops: false } };
  t.strictSame(channels(route(event('opened', 'S1'), errorsOnly)), ['discord:errors']);
  t.strictSame(channels(route(event('reminder', 'S1'), errorsOnly)), []);
  t.strictSame(channels(route(event('opened', 'S3'), errorsOnly)), []);

  const opsOnly: RouteChannels = { discord: { errors: false, warnings: false, ops: true } };
  t.strictSame(channels(route(event('opened', 'S2'), opsOnly)), ['discord:ops']);
  t.strictSame(channels(route(event('resolved', 'S3'), opsOnly)), ['discord:ops']);
  t.strictSame(channels(route(event('opened', 'S4'), opsOnly)), [], 'S4 never reaches Discord');
});
