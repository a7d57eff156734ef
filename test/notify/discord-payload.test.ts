// The pure Discord payload builder: docs/messages.md wording and colours, every limit, hostile probe output.
import t from 'tap';
import { DISCORD_COLOURS, DISCORD_LIMITS, buildDiscordPayload, codeBlock, escapeMarkdown, truncate } from '../../src/notify/discord-payload.js';
import type { IncidentEvent, IncidentEventType, Severity } from '../../src/types.js';
import { route, type DiscordChannel } from '../../src/notify/route.js';
import { validatePayload } from '../helpers/fake-discord.js';

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const OPTS = { publicUrl: 'https://vigil.example.internal/' };

function event(type: IncidentEventType, severity: Severity = 'S1', extra: Partial<IncidentEvent> = {}): IncidentEvent {
  return {
    type,
    at: T0 + 60_000,
    incidentId: 42,
    severity,
    environment: 'production',
    service: 'db',
    probe: 'backend-db-ready',
    findingKey: 'backend-db-ready',
    summary: 'Backend DB unreachable',
    message: 'connection refused by 10.0.0.2:5432',
    openedAt: T0,
    durationMs: 750_000,
    respondBy: severity === 'S1' ? T0 + 30 * 60_000 : severity === 'S2' ? T0 + 2 * 3_600_000 : null,
    detail: 'connection refused',
    ...extra,
  };
}

function embedText(p: ReturnType<typeof buildDiscordPayload>): number {
  const e = p!.embeds![0]!;
  return e.title.length + (e.description?.length ?? 0) + e.footer.text.length + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
}

t.test('#ops content is the exact documented line (docs/messages.md) for every paging event', async (t) => {
  const base = { username: 'vigil', allowed_mentions: { parse: [] } };
  t.strictSame(buildDiscordPayload(event('opened'), 'ops', OPTS), { ...base, content: '[INCIDENT] S1 - Backend DB unreachable on production. Investigating.' });
  t.strictSame(buildDiscordPayload(event('escalated', 'S2', { previousSeverity: 'S3' }), 'ops', OPTS), {
    ...base,
    content: '[INCIDENT] S2 - Backend DB unreachable on production. Escalated from S3.',
  });
  t.strictSame(buildDiscordPayload(event('reminder', 'S1', { durationMs: 30 * 60_000 }), 'ops', OPTS), {
    ...base,
    content: '[REMINDER] S1 - Backend DB unreachable on production. Unacknowledged for 30m.',
  });
  t.strictSame(buildDiscordPayload(event('acknowledged', 'S1', { by: 'alice' }), 'ops', OPTS), {
    ...base,
    content: '[ACK] S1 - Backend DB unreachable on production. Acknowledged by alice.',
  });
  t.strictSame(buildDiscordPayload(event('resolved'), 'ops', OPTS), { ...base, content: '[RESOLVED] S1 - Backend DB unreachable on production. Resolved after 12m 30s.' });
  t.equal(buildDiscordPayload(event('note'), 'ops', OPTS), null, 'a note says nothing in #ops');
});

t.test('#errors / #warnings embeds: title, colour, what failed, fields, link, respond-by', async (t) => {
  for (const [severity, colour] of [['S1', 0xed4245], ['S2', 0xe67e22], ['S3', 0xfee75c]] as const) {
    const p = buildDiscordPayload(event('opened', severity, { evidence: 'NAME  STATE\ndb    exited (1)' }), severity === 'S3' ? 'warnings' : 'errors', OPTS)!;
    t.equal(p.username, 'vigil');
    t.strictSame(p.allowed_mentions, { parse: [] });
    t.equal(p.content, undefined);
    const e = p.embeds![0]!;
    t.equal(e.title, `${severity} · Backend DB unreachable · production`);
    t.equal(e.color, colour, `${severity} colour`);
    t.equal(e.url, 'https://vigil.example.internal/status/incidents/42', 'the incident page, without a double slash');
    t.match(e.description, /^\*\*What failed:\*\* connection refused by 10\.0\.0\.2\\:5432\n\*\*Evidence\*\*\n```\nNAME  STATE\ndb    exited \\?\(1\\?\)\n```$/);
    t.match(e.fields, [{ name: 'Environment', value: 'production' }, { name: 'Service', value: 'db' }, { name: 'Probe', value: 'backend\\-db\\-ready' }]);
    const respond = e.fields.find((f) => f.name === 'Respond by');
    if (severity === 'S3') t.notOk(respond, 'S3 has no response clock');
    else t.match(respond?.value, new RegExp(`<t:${Math.floor(event('opened', severity).respondBy! / 1000)}:f>`));
    t.strictSame(validatePayload(p), {}, 'the strict fake accepts it');
  }
  const escalated = buildDiscordPayload(event('escalated', 'S2', { previousSeverity: 'S3' }), 'errors', OPTS)!;
  t.match(escalated.embeds![0]!.description, /^Escalated from S3\.\n\*\*What failed:\*\*/);
  const noUrl = buildDiscordPayload(event('opened'), 'errors', { publicUrl: null })!;
  t.equal(noUrl.embeds![0]!.url, undefined, 'no public_url, no link');
  t.notOk(noUrl.embeds![0]!.fields.some((f) => f.name === 'Incident'));
});

t.test('resolved: a green embed with the duration; reminders and acks have no embed', async (t) => {
  const p = buildDiscordPayload(event('resolved'), 'errors', OPTS)!;
  const e = p.embeds![0]!;
  t.equal(e.color, DISCORD_COLOURS.resolved);
  t.equal(e.color, 0x57f287);
  t.equal(e.title, 'Resolved · S1 · Backend DB unreachable · production');
  t.equal(e.description, 'Resolved after 12m 30s.');
  t.match(e.fields, [{}, {}, { name: 'Duration', value: '12m 30s' }]);
  t.equal(buildDiscordPayload(event('reminder'), 'errors', OPTS), null);
  t.equal(buildDiscordPayload(event('acknowledged', 'S1', { by: 'bob' }), 'errors', OPTS), null);
});

t.test('every Discord delivery the router asks for has a payload (else it dead-letters unsent)', async (t) => {
  const all = { discord: { errors: true, warnings: true, ops: true } };
  const types: IncidentEventType[] = ['opened', 'reopened', 'escalated', 'deescalated', 'symptom', 'acknowledged', 'reminder', 'note', 'resolved', 'handed_over', 'maintenance', 'review'];
  for (const type of types) {
    for (const severity of ['S1', 'S2', 'S3'] as const) {
      const e = event(type, severity, { by: 'alice', previousSeverity: 'S3', previousSummary: 'Backend DB unreachable' });
      for (const r of route(e, all)) {
        const p = buildDiscordPayload(e, r.channel as DiscordChannel, OPTS);
        t.ok(p, `${type} ${severity} in #${r.channel}`);
        if (p) t.strictSame(validatePayload(p), {}, `${type} ${severity} in #${r.channel} is valid`);
      }
    }
  }
  const handed = buildDiscordPayload(event('handed_over', 'S1'), 'errors', OPTS)!;
  t.equal(handed.embeds![0]!.title, 'S1 · Backend DB unreachable · production', 'a hand-over pages like an opening');
});

t.test('hostile input: 10,000-character evidence, backticks, mentions, markdown, emoji, RTL', async (t) => {
  const hostile = [
    '```\n@everyone <@&123> <@456> **bold** [click](https://evil.example/) ```js',
    'x'.repeat(10_000),
    '🔥🔥 \u202Eevil-rtl \u05e9\u05dc\u05d5\u05dd `` ` ```` \\',
  ].join('\n');
  const e = event('opened', 'S1', { evidence: hostile, message: '@everyone **DB** <@&123> ~~gone~~ `rm` ' + '🔥'.repeat(900), summary: 'Backend DB unreachable' });
  const p = buildDiscordPayload(e, 'errors', OPTS)!;
  t.strictSame(validatePayload(p), {}, 'within every limit the strict fake checks');
  const embed = p.embeds![0]!;
  t.ok(embed.description!.length <= DISCORD_LIMITS.description);
  t.ok(embedText(p) <= DISCORD_LIMITS.embedTotal, 'all embed text within 6000');
  // Exactly one fence opens and one closes: nothing inside can break out of the code block.
  const desc = embed.description!;
  t.equal(desc.match(/```/g)?.length, 2, 'only the two fences vigil wrote');
  t.ok(desc.endsWith('\n```'), 'the block is closed even though the evidence was cut');
  t.match(desc, /…\n```$/, 'the cut is marked');
  t.notMatch(desc, /[\ud800-\udbff](?![\udc00-\udfff])/, 'no emoji cut in half');
  const whatFailed = desc.slice('**What failed:** '.length, desc.indexOf('\n'));
  t.notMatch(whatFailed, /(^|[^\\])[*~`<]/, 'markdown and mention syntax in the message is escaped');
  t.strictSame(p.allowed_mentions, { parse: [] }, 'and nobody is pinged whatever gets through');

  const ops = buildDiscordPayload(event('acknowledged', 'S1', { by: 'a'.repeat(5_000) }), 'ops', OPTS)!;
  t.equal(ops.content!.length, DISCORD_LIMITS.content, '#ops content cut to 2000');
  t.strictSame(validatePayload(ops), {});

  const long = buildDiscordPayload(event('opened', 'S1', { summary: 'S'.repeat(400), environment: 'e'.repeat(300), service: 's'.repeat(2_000), probe: 'p'.repeat(2_000) }), 'errors', OPTS)!;
  t.strictSame(validatePayload(long), {}, 'long names are cut to the title and field limits');
  t.equal(long.embeds![0]!.title.length, DISCORD_LIMITS.title);
});

t.test('truncate, escapeMarkdown and codeBlock on their own', async (t) => {
  t.equal(truncate('abc', 3), 'abc');
  t.equal(truncate('abcdef', 4), 'abc…');
  t.equal(truncate('ab🔥c', 4), 'ab…', 'a surrogate pair is never split');
  t.equal(truncate('abc🔥d', 5), 'abc…');
  t.equal(truncate('ab\\*cd', 4), 'ab…', 'a dangling escape is dropped with the cut');
  t.equal(escapeMarkdown('*a* _b_ <@&1>'), '\\*a\\* \\_b\\_ \\<@&1\\>');
  const block = codeBlock('a```b', 100);
  t.equal(block, '```\na`\u200d`\u200d`b\n```');
  t.equal(codeBlock('x'.repeat(50), 20).length, 20);
  t.equal(codeBlock('anything', 8), '', 'no room, no block');
});
