// Link buttons under Discord alerts: which messages carry them, their signed links, and the strict fake's view of them.
import { pino } from 'pino';
import t from 'tap';
import { verifyActionToken } from '../../src/action-token.js';
import { actionButtons } from '../../src/notify/discord-buttons.js';
import { buildDiscordPayload } from '../../src/notify/discord-payload.js';
import type { DiscordChannel } from '../../src/notify/route.js';
import { discordSink } from '../../src/notify/sinks/discord.js';
import type { IncidentEventType } from '../../src/types.js';
import { incidentEvent, T0 } from '../helpers/events.js';
import { FakeDiscord, validatePayload } from '../helpers/fake-discord.js';

const SECRET = '0f5e3d2c1b0a99887766554433221100ffeeddcc';
const OPTS = { publicUrl: 'https://vigil.example.internal/', actionSecret: SECRET, signedAt: T0 };

function labelsAndUrls(type: IncidentEventType, channel: DiscordChannel, opts = OPTS) {
  const payload = buildDiscordPayload(incidentEvent({ type, incidentId: 42 }), channel, opts);
  return payload?.components?.flatMap((row) => row.components.map((b) => [b.label, b.url] as const));
}

t.test('[INCIDENT] and [REMINDER] lines and the alert embeds carry Acknowledge and Open', async (t) => {
  for (const [type, channel] of [['opened', 'ops'], ['reopened', 'ops'], ['escalated', 'ops'], ['handed_over', 'ops'], ['reminder', 'ops'], ['opened', 'errors'], ['escalated', 'warnings']] as const) {
    const payload = buildDiscordPayload(incidentEvent({ type, incidentId: 42, previousSeverity: 'S3' }), channel, OPTS)!;
    t.strictSame(payload.components?.length, 1, `${type} in #${channel}: one action row`);
    const [ack, open] = payload.components![0]!.components;
    t.match(ack, { type: 2, style: 5, label: 'Acknowledge', url: /^https:\/\/vigil\.example\.internal\/act\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/ });
    t.strictSame(open, { type: 2, style: 5, label: 'Open', url: 'https://vigil.example.internal/status/incidents/42' });
    t.strictSame(validatePayload(payload, { withComponents: true }), {}, 'the strict fake accepts it');
    const token = ack!.url.split('/act/')[1]!;
    t.same(verifyActionToken(SECRET, token, { now: T0, incidentId: 42 }), { ok: true, incidentId: 42, expiresAt: T0 + 86_400_000 }, 'signed for this incident, for a day from sending');
  }
});

t.test('the resolved embed links to the incident only; acks, reviews and resolved lines carry nothing', async (t) => {
  t.same(labelsAndUrls('resolved', 'errors'), [['Open', 'https://vigil.example.internal/status/incidents/42']]);
  for (const type of ['acknowledged', 'resolved', 'review'] as const) t.equal(labelsAndUrls(type, 'ops'), undefined, `${type} in #ops`);
});

t.test('no buttons without the secret or the public URL; no link over Discord\'s url limit', async (t) => {
  t.equal(labelsAndUrls('opened', 'ops', { ...OPTS, actionSecret: null as unknown as string }), undefined);
  t.equal(labelsAndUrls('opened', 'ops', { ...OPTS, publicUrl: null as unknown as string }), undefined);
  t.notOk('components' in buildDiscordPayload(incidentEvent(), 'ops', { publicUrl: 'https://vigil.example.internal' })!, 'the payload has no components key at all');
  const long = { ...OPTS, publicUrl: `https://vigil.example.internal/${'x'.repeat(420)}` };
  t.same(actionButtons(incidentEvent({ incidentId: 42 }), 'ops', long)?.[0]?.components.map((b) => b.label), ['Open'], 'the long signed link is left out');
  t.equal(actionButtons(incidentEvent({ incidentId: 42 }), 'ops', { ...OPTS, publicUrl: `https://v.example/${'x'.repeat(520)}` }), undefined);
});

t.test('the strict fake refuses what Discord refuses about buttons', async (t) => {
  const base = { content: 'hi' };
  const link = (over: Record<string, unknown> = {}) => ({ type: 2, style: 5, label: 'Open', url: 'https://x.example/a', ...over });
  const row = (...components: unknown[]) => ({ type: 1, components });
  const check = (components: unknown) => Object.keys(validatePayload({ ...base, components }, { withComponents: true }));
  t.same(check([row(link())]), []);
  t.same(check([row(link(), link(), link(), link(), link(), link())]), ['components.0.components'], 'six buttons in a row');
  t.same(check([row(link({ label: 'x'.repeat(81) }))]), ['components.0.components.0.label']);
  t.same(check([row(link({ url: `https://x.example/${'a'.repeat(500)}` }))]), ['components.0.components.0.url']);
  t.same(check([row(link({ url: undefined }))]), ['components.0.components.0.url'], 'style 5 needs a url');
  t.same(check([row(link({ style: 1, custom_id: 'ack' }))]), ['components.0.components.0.style'], 'no interactive buttons on a plain webhook');
  t.same(check([link()]), ['components.0.type'], 'a button outside an action row');
  t.same(check([row(), row(link())]), ['components.0.components']);
  t.same(check([row(link()), row(link()), row(link()), row(link()), row(link()), row(link())]), ['components']);
  t.same(Object.keys(validatePayload({ components: [row(link())] }, { withComponents: true })), ['_empty'], 'buttons alone are no message');
});

t.test('the sink asks for components, and the fake keeps buttons only then', async (t) => {
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const ops = discord.webhook('ops');
  const sink = discordSink({ webhooks: { errors: null, warnings: null, ops }, publicUrl: 'http://vigil.test', actionSecret: SECRET, log: pino({ enabled: false }), now: () => T0 });
  const event = incidentEvent({ incidentId: 7 });
  const result = await sink.deliver({ id: 1, sink: 'discord', channel: 'ops', createdAt: T0, incidentId: 7, event: 'opened', body: event }, AbortSignal.timeout(5_000));
  t.same(result, { ok: true });
  const [accepted] = discord.accepted('ops');
  t.same(accepted?.payload.components?.[0]?.components.map((b: { label: string }) => b.label), ['Acknowledge', 'Open'], 'posted with its buttons');
  t.same(discord.droppedComponents, [], 'none dropped: the sink sent ?with_components=true');
  const plain = await fetch(`${ops}?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(accepted!.payload) });
  t.equal(plain.status, 200, 'without the flag Discord still posts the message');
  t.same((await plain.json()).components, [], 'but without its buttons');
  t.equal(discord.droppedComponents.length, 1);
});
