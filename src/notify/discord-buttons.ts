// The link buttons under an alert: "Acknowledge" (a signed, expiring /act link) and "Open" (the incident page).
import { actionTokenFor } from '../action-token.js';
import type { IncidentEvent } from '../types.js';
import type { DiscordChannel } from './route.js';

/** Discord's limits for components on a webhook message (non-application webhooks: link buttons only). */
export const DISCORD_COMPONENT_LIMITS = { rows: 5, buttonsPerRow: 5, label: 80, url: 512 } as const;

export const COMPONENT_ACTION_ROW = 1;
export const COMPONENT_BUTTON = 2;
/** A link button: opens `url`, sends nothing back to Discord, so an ordinary webhook may carry it. */
export const BUTTON_STYLE_LINK = 5;

export interface DiscordLinkButton {
  type: typeof COMPONENT_BUTTON;
  style: typeof BUTTON_STYLE_LINK;
  label: string;
  url: string;
}

export interface DiscordActionRow {
  type: typeof COMPONENT_ACTION_ROW;
  components: DiscordLinkButton[];
}

export interface ActionLinkOptions {
  /** server.public_url; without it there is nothing to link to. */
  publicUrl: string | null;
  /** server.action_secret; without it there is no "Acknowledge" link, and no buttons at all. */
  actionSecret?: string | null;
  /** When the message is built (delivery time): the link's day of validity starts here. */
  signedAt?: number;
}

/** Events whose message asks a human to act: the [INCIDENT] and [REMINDER] lines and the alert embeds. */
const ASKS_FOR_ACTION = new Set<IncidentEvent['type']>(['opened', 'reopened', 'escalated', 'handed_over', 'reminder']);

function button(label: string, url: string): DiscordLinkButton | null {
  return url.length <= DISCORD_COMPONENT_LIMITS.url ? { type: COMPONENT_BUTTON, style: BUTTON_STYLE_LINK, label, url } : null;
}

/**
 * The buttons for `event` in `channel`, or undefined for none: a message that asks for action gets
 * "Acknowledge" and "Open"; the #errors/#warnings resolved embed gets "Open" alone. A link over
 * Discord's length limit (a very long public_url) is left out rather than have the message refused.
 */
export function actionButtons(event: IncidentEvent, channel: DiscordChannel, opts: ActionLinkOptions): DiscordActionRow[] | undefined {
  if (!opts.publicUrl || !opts.actionSecret) return undefined;
  const base = opts.publicUrl.replace(/\/+$/, '');
  const asks = ASKS_FOR_ACTION.has(event.type);
  const resolvedEmbed = event.type === 'resolved' && channel !== 'ops';
  if (!asks && !resolvedEmbed) return undefined;
  const buttons: Array<DiscordLinkButton | null> = [];
  if (asks) buttons.push(button('Acknowledge', `${base}/act/${actionTokenFor(opts.actionSecret, event.incidentId, opts.signedAt ?? Date.now())}`));
  buttons.push(button('Open', `${base}/status/incidents/${event.incidentId}`));
  const components = buttons.filter((b): b is DiscordLinkButton => b !== null);
  return components.length === 0 ? undefined : [{ type: COMPONENT_ACTION_ROW, components }];
}
