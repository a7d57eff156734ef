// Builds the Discord webhook body for an incident event (docs/messages.md): pure, within every Discord limit.
import { formatDuration } from '../duration.js';
import type { IncidentEvent, Severity } from '../types.js';
import { actionButtons, type ActionLinkOptions, type DiscordActionRow } from './discord-buttons.js';
import { oneLine, opsLine } from './messages.js';
import type { DiscordChannel } from './route.js';

/** Discord's documented limits; a request over any of them is refused with 400 (code 50035). */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  authorName: 256,
  username: 80,
  embedTotal: 6000,
} as const;

export const DISCORD_COLOURS = {
  S1: 0xed4245,
  S2: 0xe67e22,
  S3: 0xfee75c,
  S4: 0x95a5a6,
  resolved: 0x57f287,
} as const;

export const DISCORD_USERNAME = 'vigil';

export interface DiscordEmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

export interface DiscordEmbed {
  title: string;
  description?: string;
  url?: string;
  color: number;
  timestamp: string;
  fields: DiscordEmbedField[];
  footer: { text: string };
}

export interface DiscordPayload {
  username: string;
  /**
   * `parse` is always empty: text from probes (log lines, query text, container names), notes and
   * names is untrusted. `roles` names the configured role on the lines that ping it, and only there.
   */
  allowed_mentions: { parse: []; roles?: string[] };
  content?: string;
  embeds?: DiscordEmbed[];
  /** Link buttons; sent only with `?with_components=true` (Discord drops them silently otherwise). */
  components?: DiscordActionRow[];
}

/** server.public_url (the incident link; null leaves it out), what signs the "Acknowledge" button, and the role to ping. */
export type PayloadOptions = ActionLinkOptions & {
  /** alerts.discord.ops.mention_role: pinged by the S1/S2 lines in #ops that need a human now. */
  mentionRole?: string | null;
};

/**
 * Whether this #ops line pings the on-call role: an S1/S2 [INCIDENT] (opening, reopening,
 * escalation, hand-over) or [REMINDER] (and the escalation it announces). Never an ack or resolve.
 */
export function mentionsRole(event: Pick<IncidentEvent, 'type' | 'severity'>): boolean {
  if (event.severity !== 'S1' && event.severity !== 'S2') return false;
  return ['opened', 'reopened', 'escalated', 'handed_over', 'reminder'].includes(event.type);
}

const ELLIPSIS = '…';

/**
 * Cuts text to at most `max` UTF-16 code units (the stricter of the ways Discord could count),
 * never between the halves of a surrogate pair, marking the cut with an ellipsis.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  // A cut right after an escaping backslash would leave it escaping the ellipsis, or nothing.
  let kept = text.slice(0, Math.max(0, end));
  if (/(^|[^\\])(\\\\)*\\$/.test(kept)) kept = kept.slice(0, -1);
  return kept + ELLIPSIS;
}

const MARKDOWN = /[\\*_~`|>#[\]()<:-]/g;

/** Makes untrusted text render literally: every markdown (and link, heading, mention) character escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(MARKDOWN, (c) => `\\${c}`);
}

const FENCE_OPEN = '```\n';
const FENCE_CLOSE = '\n```';

/**
 * Wraps untrusted text in a code block that cannot be closed from inside: a zero-width joiner goes
 * between any two backticks, so no run of three ever forms. Cut to fit before wrapping, so the fence
 * always closes. Returns '' when not even an empty block fits.
 */
export function codeBlock(text: string, max: number): string {
  const room = max - FENCE_OPEN.length - FENCE_CLOSE.length;
  if (room <= ELLIPSIS.length) return '';
  const neutral = text.replace(/\r\n?/g, '\n').replace(/`(?=`)/g, '`\u200d');
  // A trailing backtick would meet the closing fence's first backtick only across the newline; harmless.
  return FENCE_OPEN + truncate(neutral, room) + FENCE_CLOSE;
}

function title(prefix: string, event: IncidentEvent): string {
  return truncate(`${prefix}${event.severity} · ${oneLine(event.summary)} · ${oneLine(event.environment)}`, DISCORD_LIMITS.title);
}

function field(name: string, value: string, inline = true): DiscordEmbedField {
  return { name: truncate(name, DISCORD_LIMITS.fieldName), value: truncate(value || '-', DISCORD_LIMITS.fieldValue), inline };
}

function incidentUrl(event: IncidentEvent, opts: PayloadOptions): string | undefined {
  if (!opts.publicUrl) return undefined;
  return `${opts.publicUrl.replace(/\/+$/, '')}/status/incidents/${event.incidentId}`;
}

/** Discord renders `<t:…>` in the reader's own time zone; the UTC text stays readable in a log or a quote. */
function respondBy(at: number): string {
  const seconds = Math.floor(at / 1000);
  return `<t:${seconds}:f> (<t:${seconds}:R>) · ${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

function embedTextLength(embed: DiscordEmbed): number {
  return (
    embed.title.length +
    (embed.description?.length ?? 0) +
    embed.footer.text.length +
    embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

function openedEmbed(event: IncidentEvent, opts: PayloadOptions): DiscordEmbed {
  const fields = [
    field('Environment', escapeMarkdown(oneLine(event.environment))),
    field('Service', escapeMarkdown(oneLine(event.service))),
    field('Probe', escapeMarkdown(oneLine(event.probe))),
  ];
  if (event.respondBy !== null) fields.push(field('Respond by', respondBy(event.respondBy), false));
  const url = incidentUrl(event, opts);
  if (url) fields.push(field('Incident', `[#${event.incidentId}](${url})`, false));
  // Triage lines quote command output and log lines: untrusted, so fenced like the evidence.
  const triage = event.triage ? codeBlock(event.triage, DISCORD_LIMITS.fieldValue) : '';
  if (triage) fields.push(field('Triage', triage, false));
  const embed: DiscordEmbed = {
    title: title('', event),
    color: DISCORD_COLOURS[event.severity satisfies Severity],
    timestamp: new Date(event.at).toISOString(),
    fields,
    footer: { text: `vigil · incident #${event.incidentId}` },
  };
  if (url) embed.url = url;
  // The description gets what the title, fields and footer leave of the 6000 a message may hold.
  const room = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - embedTextLength(embed));
  const lead = event.type === 'escalated' && event.previousSeverity ? `Escalated from ${event.previousSeverity}.\n` : '';
  const whatFailed = truncate(`${lead}**What failed:** ${escapeMarkdown(oneLine(event.message))}`, Math.min(room, 1024));
  const evidence = event.evidence ? codeBlock(event.evidence, room - whatFailed.length - '\n**Evidence**\n'.length) : '';
  embed.description = evidence ? `${whatFailed}\n**Evidence**\n${evidence}` : whatFailed;
  return embed;
}

function resolvedEmbed(event: IncidentEvent, opts: PayloadOptions): DiscordEmbed {
  const url = incidentUrl(event, opts);
  const embed: DiscordEmbed = {
    title: title('Resolved · ', event),
    description: `Resolved after ${formatDuration(event.durationMs)}.`,
    color: DISCORD_COLOURS.resolved,
    timestamp: new Date(event.at).toISOString(),
    fields: [
      field('Environment', escapeMarkdown(oneLine(event.environment))),
      field('Service', escapeMarkdown(oneLine(event.service))),
      field('Duration', formatDuration(event.durationMs)),
      ...(url ? [field('Incident', `[#${event.incidentId}](${url})`, false)] : []),
    ],
    footer: { text: `vigil · incident #${event.incidentId}` },
  };
  if (url) embed.url = url;
  return embed;
}

/**
 * The webhook body for `event` on `channel`, or null when that channel has nothing to say about it.
 * #ops gets the runbook's one-line content; #errors and #warnings get an embed.
 */
export function buildDiscordPayload(event: IncidentEvent, channel: DiscordChannel, opts: PayloadOptions): DiscordPayload | null {
  const payload = messageOf(event, channel, opts);
  const components = payload && actionButtons(event, channel, opts);
  return components ? { ...payload, components } : payload;
}

function messageOf(event: IncidentEvent, channel: DiscordChannel, opts: PayloadOptions): DiscordPayload | null {
  const base = { username: DISCORD_USERNAME, allowed_mentions: { parse: [] as [] } };
  if (channel === 'ops') {
    const line = opsLine(event);
    if (line === null) return null;
    const role = opts.mentionRole;
    if (!role || !mentionsRole(event)) return { ...base, content: truncate(line, DISCORD_LIMITS.content) };
    const mention = `<@&${role}> `;
    return {
      ...base,
      allowed_mentions: { parse: [] as [], roles: [role] },
      content: mention + truncate(line, DISCORD_LIMITS.content - mention.length),
    };
  }
  switch (event.type) {
    case 'opened':
    case 'reopened':
    case 'escalated':
    // The router sends a hand-over to the embed channel like an opening: it pages under its new root.
    case 'handed_over':
      return { ...base, embeds: [openedEmbed(event, opts)] };
    case 'resolved':
      return { ...base, embeds: [resolvedEmbed(event, opts)] };
    default:
      return null;
  }
}
