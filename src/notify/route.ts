// Which sink and channel each incident event goes to (docs/messages.md): a pure table, no I/O.
import type { IncidentEvent, Severity } from '../types.js';
import { logFields, opsLine, type EventLogFields } from './messages.js';

export const CONSOLE_SINK = 'console';
export const DISCORD_SINK = 'discord';
export const ONCALL_SINK = 'betterstack_oncall';
/**
 * One channel for every Better Stack call: the outbox keeps a channel strictly in order, so an
 * incident's acknowledge or resolve always waits for its create to be delivered first.
 */
export const ONCALL_CHANNEL = 'oncall';

export type DiscordChannel = 'errors' | 'warnings' | 'ops';

/** Which Discord webhooks are configured; the URLs themselves never reach the router. */
export interface RouteChannels {
  discord: Record<DiscordChannel, boolean>;
  /** Better Stack on-call: the severities it pages for, and whom an escalation goes to. */
  oncall?: { severities: readonly Severity[]; escalateTo: string } | null;
}

export type OncallAction = 'create' | 'acknowledge' | 'resolve' | 'escalate';

/** The stored body of a Better Stack call: what to do, and the event it is about. */
export interface OncallBody {
  action: OncallAction;
  event: IncidentEvent;
}

/** What the console sink prints: the #ops wording as the message, the documented log fields (docs/messages.md) beside it. */
export interface ConsoleBody {
  text: string;
  fields: EventLogFields;
}

export interface Route {
  sink: string;
  channel: string;
  /** ConsoleBody for the console sink; the IncidentEvent itself for Discord, whose sink builds the payload. */
  body: unknown;
}

export const NO_DISCORD: RouteChannels = { discord: { errors: false, warnings: false, ops: false } };

/** The automated channel that carries an incident's embed: #errors for S1/S2, #warnings for S3. */
function alertChannel(severity: Severity): DiscordChannel | null {
  if (severity === 'S1' || severity === 'S2') return 'errors';
  if (severity === 'S3') return 'warnings';
  return null;
}

/**
 * The deliveries an event causes. Without any Discord webhook every paging event is printed by the
 * console sink; with Discord, S4 and non-paging events go nowhere (they are still logged by whoever
 * applies the events) and an unconfigured channel is skipped.
 */
export function route(event: IncidentEvent, channels: RouteChannels): Route[] {
  // Inside a maintenance window: recorded and logged by whoever applies the events, paged to nobody.
  if (opsLine(event) === null || event.held === true) return [];
  const action = channels.oncall ? oncallAction(event, channels.oncall.severities) : null;
  // The reminder that escalates in Better Stack says so in #ops.
  const said = action === 'escalate' && channels.oncall ? { ...event, escalatedTo: channels.oncall.escalateTo } : event;
  const oncall: Route[] = action === null ? [] : [{ sink: ONCALL_SINK, channel: ONCALL_CHANNEL, body: { action, event } satisfies OncallBody }];
  return [...announce(said, channels), ...oncall];
}

/**
 * The Better Stack call an event causes: a new incident when an S1/S2 starts paging (opening,
 * reopening, escalation into it, hand-over), an escalation at its respond-by time, and every ack and
 * resolve mirrored there. One made in Better Stack is never sent back to the incident it was made
 * on (the sync marks that one first, and the sink skips it); it still reaches the incident's other
 * Better Stack incidents (an S2 one left open when it escalated to S1), so no phone keeps ringing.
 */
export function oncallAction(event: IncidentEvent, severities: readonly Severity[]): OncallAction | null {
  const paged = severities.includes(event.severity);
  switch (event.type) {
    case 'opened':
    case 'reopened':
    case 'escalated':
    case 'handed_over':
      return paged ? 'create' : null;
    case 'reminder':
      return paged && event.respondByMissed === true ? 'escalate' : null;
    // Whatever its severity now: it may have paged in Better Stack as an S1 before falling.
    case 'acknowledged':
      return 'acknowledge';
    case 'resolved':
      return 'resolve';
    default:
      return null;
  }
}

function announce(event: IncidentEvent, channels: RouteChannels): Route[] {
  const text = opsLine(event);
  if (text === null) return [];

  const discord = channels.discord;
  if (!discord.errors && !discord.warnings && !discord.ops) {
    const body: ConsoleBody = { text, fields: logFields(event) };
    return [{ sink: CONSOLE_SINK, channel: 'ops', body }];
  }

  const alert = alertChannel(event.severity);
  if (alert === null) return [];

  const wanted: DiscordChannel[] = [];
  switch (event.type) {
    case 'opened':
    case 'reopened':
    case 'escalated':
    case 'handed_over':
      // #ops is for operator signals that need a human now; S3 waits for the next business day.
      if (alert === 'errors') wanted.push('ops');
      wanted.push(alert);
      break;
    case 'reminder':
    case 'acknowledged':
    case 'review':
      wanted.push('ops');
      break;
    case 'resolved':
      wanted.push('ops', alert);
      break;
    default:
      break;
  }
  return wanted
    .filter((channel) => discord[channel])
    .map((channel) => ({ sink: DISCORD_SINK, channel, body: event }));
}
