// Which Better Stack call each event causes, the #ops words for escalation and "via", and the role mention.
import t from 'tap';
import { buildDiscordPayload } from '../../src/notify/discord-payload.js';
import { opsLine } from '../../src/notify/messages.js';
import { ONCALL_SINK, oncallAction, route, type RouteChannels } from '../../src/notify/route.js';
import type { IncidentEventType, Severity } from '../../src/types.js';
import { incidentEvent } from '../helpers/events.js';

const ROLE = '112233445566778899';
const WITH_ONCALL: RouteChannels = { discord: { errors: true, warnings: true, ops: true }, oncall: { severities: ['S1', 'S2'], escalateTo: 'escalation policy 12345' } };

t.test('opening, reopening, escalation into and hand-over of an S1/S2 create a Better Stack incident; S3 does not', async (t) => {
  for (const type of ['opened', 'reopened', 'escalated', 'handed_over'] as IncidentEventType[]) {
    t.equal(oncallAction(incidentEvent({ type, severity: 'S1' }), ['S1', 'S2']), 'create', `${type} S1`);
    t.equal(oncallAction(incidentEvent({ type, severity: 'S2' }), ['S1']), null, `${type} S2 when only S1 is configured`);
    t.equal(oncallAction(incidentEvent({ type, severity: 'S3' }), ['S1', 'S2']), null, `${type} S3`);
  }
  t.equal(oncallAction(incidentEvent({ type: 'acknowledged', by: 'bob' }), ['S1']), 'acknowledge');
  t.equal(oncallAction(incidentEvent({ type: 'resolved' }), ['S1']), 'resolve');
  // Made in Better Stack: still routed, for the incident's other Better Stack incidents (the sink skips the one acted on).
  t.equal(oncallAction(incidentEvent({ type: 'acknowledged', by: 'alice', via: 'Better Stack' }), ['S1']), 'acknowledge');
  t.equal(oncallAction(incidentEvent({ type: 'resolved', by: 'alice', via: 'Better Stack' }), ['S1']), 'resolve');
  t.equal(oncallAction(incidentEvent({ type: 'reminder', respondByMissed: true }), ['S1']), 'escalate');
  t.equal(oncallAction(incidentEvent({ type: 'reminder' }), ['S1']), null, 'later reminders do not escalate again');
  for (const type of ['symptom', 'deescalated', 'note', 'review'] as IncidentEventType[]) t.equal(oncallAction(incidentEvent({ type }), ['S1', 'S2']), null, type);
  t.same(route(incidentEvent({ held: true }), WITH_ONCALL), [], 'inside a maintenance window nothing goes to Better Stack either');
  const routes = route(incidentEvent(), WITH_ONCALL);
  t.same(routes.map((r) => `${r.sink}:${r.channel}`), ['discord:ops', 'discord:errors', `${ONCALL_SINK}:oncall`]);
  t.same(route(incidentEvent(), { discord: { errors: false, warnings: false, ops: false }, oncall: WITH_ONCALL.oncall }).map((r) => r.sink), ['console', ONCALL_SINK], 'independent of Discord');
});

t.test('the escalating reminder says so in #ops; an ack or resolve from Better Stack says where', async (t) => {
  const reminder = incidentEvent({ type: 'reminder', durationMs: 30 * 60_000, respondByMissed: true });
  const routes = route(reminder, WITH_ONCALL);
  const ops = routes.find((r) => r.channel === 'ops')!;
  t.equal(opsLine(ops.body as never), '[REMINDER] S1 - Backend API down on production. Unacknowledged for 30m. Escalated in Better Stack to escalation policy 12345.');
  t.equal(opsLine(route({ ...reminder, respondByMissed: false }, WITH_ONCALL)[0]!.body as never), '[REMINDER] S1 - Backend API down on production. Unacknowledged for 30m.');
  t.equal(opsLine(incidentEvent({ type: 'acknowledged', by: 'alice@sartiq.com', via: 'Better Stack' })), '[ACK] S1 - Backend API down on production. Acknowledged by alice@sartiq.com (via Better Stack).');
  t.equal(opsLine(incidentEvent({ type: 'resolved', by: 'alice@sartiq.com', via: 'Better Stack', durationMs: 750_000 })), '[RESOLVED] S1 - Backend API down on production. Resolved after 12m 30s by alice@sartiq.com (via Better Stack).');
  t.equal(opsLine(incidentEvent({ type: 'resolved', by: 'bob', durationMs: 750_000 })), '[RESOLVED] S1 - Backend API down on production. Resolved after 12m 30s.', 'the usual wording otherwise');
});

t.test('the role is pinged by S1/S2 [INCIDENT] and [REMINDER] lines in #ops, with allowed_mentions naming only it', async (t) => {
  const opts = { publicUrl: null, mentionRole: ROLE };
  const pinging: IncidentEventType[] = ['opened', 'reopened', 'escalated', 'handed_over', 'reminder'];
  for (const severity of ['S1', 'S2'] as Severity[]) {
    for (const type of pinging) {
      const p = buildDiscordPayload(incidentEvent({ type, severity, respondByMissed: true, escalatedTo: 'the whole team' }), 'ops', opts)!;
      t.match(p.content, new RegExp(`^<@&${ROLE}> \\[(INCIDENT|REMINDER)\\] ${severity} - `), `${severity} ${type}`);
      t.strictSame(p.allowed_mentions, { parse: [], roles: [ROLE] });
    }
  }
  const quiet = [
    incidentEvent({ type: 'opened', severity: 'S3' }),
    incidentEvent({ type: 'reminder', severity: 'S3' }),
    incidentEvent({ type: 'acknowledged', by: `<@&${ROLE}> @everyone` }),
    incidentEvent({ type: 'resolved' }),
    incidentEvent({ type: 'review', detail: 'Post-incident review draft: x' }),
  ];
  for (const e of quiet) {
    const p = buildDiscordPayload(e, 'ops', opts)!;
    t.strictSame(p.allowed_mentions, { parse: [] }, `${e.type} ${e.severity} mentions nobody`);
    t.notOk(p.content!.startsWith('<@&'), 'and does not start with the mention');
  }
  const embed = buildDiscordPayload(incidentEvent(), 'errors', opts)!;
  t.strictSame(embed.allowed_mentions, { parse: [] }, 'embeds never mention');
  t.strictSame(buildDiscordPayload(incidentEvent(), 'ops', { publicUrl: null })!.allowed_mentions, { parse: [] }, 'no role configured: no mention');
  const long = buildDiscordPayload(incidentEvent({ summary: 'x'.repeat(3000) }), 'ops', opts)!;
  t.ok(long.content!.length <= 2000 && long.content!.startsWith(`<@&${ROLE}> `), 'the mention survives truncation within the limit');
});
