// The post-incident review (docs/incidents.md) as Markdown: Timeline, Root cause, Impact, Resolution, Action items — pure and deterministic.
import type { Incident, Severity } from '../types.js';
import { downtimeText, failingPeriods, outage, type FailingPeriod } from './durations.js';
import { formatDuration } from './wording.js';

const SEVERITY_NAMES: Record<Severity, string> = { S1: 'Critical', S2: 'Major', S3: 'Minor', S4: 'Low' };
const RESPOND_WITHIN: Record<Severity, string> = { S1: '30m', S2: '2h', S3: 'the next business day', S4: 'the next sprint' };

export interface ReviewInput {
  incident: Incident;
  /** Users affected, from the database's impact_query when set (see impactUsersOf); null when unknown. */
  impactUsers: number | null;
  /** Service of each finding key the incident names (from the config); keys it lacks are left out. */
  serviceOf?: (key: string) => string | undefined;
  /** Only read for an incident still open: how long it has lasted so far. */
  now: number;
}

/**
 * Users affected as recorded by triage: the number in the first evidence whose source is `impact`
 * or `impact:<database>` (what the impact_query's result is attached as). Null when there is none.
 */
export function impactUsersOf(incident: Incident): number | null {
  for (const e of incident.evidence) {
    if (e.source !== 'impact' && !e.source.startsWith('impact:')) continue;
    const match = /-?\d+/.exec(e.text);
    if (match) return Number(match[0]);
  }
  return null;
}

export function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A table cell on one line, with its pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}

/** A fenced block that no backtick run inside the text can close early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text.replace(/\s+$/, '')}\n${fence}`;
}

const code = (key: string): string => `\`${key.replace(/`/g, "'")}\``;

/** "the opening" or "the reopening at <time>": which failing period a line is about. */
function periodName(p: FailingPeriod, index: number): string {
  return index === 0 ? 'the opening' : `the reopening at ${utc(p.start)}`;
}

/** Per failing period: its acknowledgements (every one the timeline kept), or that it had none. */
function acknowledgements(periods: FailingPeriod[]): string {
  const one = (p: FailingPeriod) => (p.acks.length === 0 ? 'never' : p.acks.map((a) => `${utc(a.at)} by ${a.by ?? 'someone'}`).join(', '));
  if (periods.length === 1) return one(periods[0]!);
  return periods.map((p, n) => `${one(p)} (after ${periodName(p, n)})`).join('; ');
}

/** Per failing period, from its page to its first acknowledgement: each reopening restarts the response clock. */
function timesToAcknowledge(periods: FailingPeriod[]): string {
  const one = (p: FailingPeriod) => (p.acks.length === 0 ? 'not acknowledged' : formatDuration(p.acks[0]!.at - (p.pagedAt ?? p.start)));
  if (periods.length === 1) return one(periods[0]!);
  return periods.map((p, n) => `${one(p)} (after ${periodName(p, n)})`).join('; ');
}

function timelineSection(i: Incident, now: number): string[] {
  const detected = i.detectedAt ?? i.openedAt;
  const periods = failingPeriods(i);
  const paged = periods[0]!.pagedAt;
  const lasted = outage(i, now);
  const escalations = i.timeline.filter((e) => e.event === 'escalated' || e.event === 'handed_over');
  const reopenings = periods.slice(1).map((p) => utc(p.start));
  const resolvedAfter = `after ${formatDuration(lasted.currentMs)}${periods.length > 1 ? ', counted from the last reopening' : ''}`;
  const lines = [
    '## Timeline',
    '',
    'All times UTC.',
    '',
    `- **Detected:** ${utc(detected)}`,
    `- **Opened:** ${utc(i.openedAt)}${paged !== null && paged !== i.openedAt ? ` (paged ${utc(paged)}, after a maintenance window)` : ''}`,
    ...(reopenings.length === 0 ? [] : [`- **Reopened:** ${reopenings.join(', ')}`]),
    `- **Acknowledged:** ${acknowledgements(periods)}`,
    `- **Escalations and hand-overs:** ${escalations.length === 0 ? 'none' : escalations.map((e) => `${utc(e.at)} ${e.detail}`).join('; ')}`,
    `- **Resolved:** ${i.resolvedAt === null ? 'not yet — the incident is still open' : `${utc(i.resolvedAt)} (${resolvedAfter})`}`,
    `- **Total downtime:** ${downtimeText(lasted)}${i.resolvedAt === null ? ' so far' : ''}`,
    `- **Time to acknowledge:** ${timesToAcknowledge(periods)}`,
    '',
    '| Time (UTC) | Event | By | Detail |',
    '|---|---|---|---|',
  ];
  // The review's own announcement is not part of what happened.
  for (const e of i.timeline.filter((entry) => entry.event !== 'review')) {
    lines.push(`| ${utc(e.at)} | ${e.event} | ${cell(e.by ?? '')} | ${cell(e.detail)} |`);
  }
  return lines;
}

function rootCauseSection(i: Incident): string[] {
  const first = i.formerRoots?.[0] ?? i.rootKey;
  const evidence = i.evidence.find((e) => e.source === first);
  const lines = [
    '## Root cause',
    '',
    '_Draft: vigil names what failed first; confirm the actual cause before sharing this review._',
    '',
    `The first failing probe was ${code(first)}${first === i.rootKey ? ` (${i.summary})` : ''}.`,
  ];
  const opened = i.timeline.find((e) => e.event === 'opened' || e.event === 'maintenance');
  if (opened) lines.push('', `What vigil saw: ${opened.detail}`);
  if (evidence) lines.push('', `Evidence (${utc(evidence.at)}):`, '', fenced(evidence.text));
  if (first !== i.rootKey) {
    lines.push('', `It recovered before the incident did, which was handed over to ${code(i.rootKey)} (${i.summary}).`);
  }
  const followed = [...(i.formerRoots ?? []).slice(1), ...(first === i.rootKey ? [] : [i.rootKey]), ...i.symptoms].filter(
    (k) => k !== first,
  );
  lines.push('', `Symptoms that followed: ${followed.length === 0 ? 'none' : [...new Set(followed)].map(code).join(', ')}.`);
  return lines;
}

function impactSection(input: ReviewInput): string[] {
  const i = input.incident;
  const keys = [...new Set([...(i.formerRoots ?? []), i.rootKey, ...i.symptoms])];
  const services = [...new Set([i.service, ...keys.flatMap((k) => input.serviceOf?.(k) ?? [])])];
  return [
    '## Impact',
    '',
    `- **Environment:** ${i.environment}`,
    `- **Services:** ${services.join(', ')}`,
    `- **Duration:** ${downtimeText(outage(i, input.now))}${i.resolvedAt === null ? ' so far' : ''}`,
    `- **Users affected:** ${input.impactUsers === null ? 'unknown (no impact_query result)' : `${input.impactUsers} (from impact_query)`}`,
  ];
}

function resolutionSection(i: Incident): string[] {
  const resolved = [...i.timeline].reverse().find((e) => e.event === 'resolved');
  const notes = i.timeline.filter((e) => e.event === 'note');
  const lines = ['## Resolution', ''];
  if (!resolved) lines.push('Not resolved yet.');
  else lines.push(`${resolved.by === undefined ? 'Resolved automatically' : `Resolved by ${resolved.by}`} at ${utc(resolved.at)}: ${resolved.detail}.`);
  lines.push('', notes.length === 0 ? 'Notes: none.' : 'Notes:');
  for (const n of notes) lines.push(`- ${utc(n.at)} ${n.by ?? 'someone'}: ${n.detail.replace(/\s*\n\s*/g, ' ')}`);
  return lines;
}

function actionItems(i: Incident): string[] {
  const first = i.formerRoots?.[0] ?? i.rootKey;
  const items = [`Confirm why ${code(first)} failed and fix the cause, not only the symptom.`];
  const dependents = [...new Set([...(i.formerRoots ?? []).slice(1), ...(first === i.rootKey ? [] : [i.rootKey]), ...i.symptoms])];
  for (const key of dependents) items.push(`Check whether ${code(key)} can degrade gracefully when ${code(first)} fails.`);
  // The current period's clock is the incident's; earlier periods were acknowledged or not on their own.
  const periods = failingPeriods(i);
  const unacknowledged = periods.filter((p) => p.pagedAt !== null && p.acks.length === 0).length;
  if (unacknowledged > 0) {
    const which = periods.length === 1 ? 'the page' : `${unacknowledged} of ${periods.length} pages`;
    items.push(`Find out why nobody acknowledged ${which} (respond within ${RESPOND_WITHIN[i.severity]}).`);
  } else if (i.acknowledgedAt !== null && i.respondBy !== null && i.acknowledgedAt > i.respondBy) {
    const current = periods[periods.length - 1]!;
    items.push(`Acknowledged after ${formatDuration(i.acknowledgedAt - (current.pagedAt ?? current.start))}, later than ${RESPOND_WITHIN[i.severity]}: review the on-call rota and paging.`);
  }
  const reopened = i.timeline.filter((e) => e.event === 'reopened').length;
  if (reopened > 0) items.push(`It reopened ${reopened} time${reopened === 1 ? '' : 's'}: find out why the fix did not hold.`);
  if (i.timeline.some((e) => e.event === 'escalated')) items.push('It escalated while open: could it have been caught at a lower severity?');
  items.push('Update the runbook with what was learned.');
  return ['## Action items', '', ...items.map((text) => `- [ ] ${text}`)];
}

/** The review of `input.incident`; the same input always gives the same text. */
export function renderReview(input: ReviewInput): string {
  const i = input.incident;
  const title = `# Post-incident review: #${i.id} ${i.severity} ${i.summary} on ${i.environment}`;
  const header = [
    title.replace(/\s+/g, ' '),
    '',
    `> Draft written by vigil${i.resolvedAt === null ? '' : ` when the incident resolved (${utc(i.resolvedAt)})`}.`,
    `> Severity ${i.severity} (${SEVERITY_NAMES[i.severity]}), ${i.environment}/${i.service}, state ${i.state}.`,
  ];
  const sections = [header, timelineSection(i, input.now), rootCauseSection(i), impactSection(input), resolutionSection(i), actionItems(i)];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
