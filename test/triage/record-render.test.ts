// Triage's results in the engine (the evidence command) and in the messages (Discord's Triage field, the console line).
import { pino } from 'pino';
import t from 'tap';
import { command, initialState, step } from '../../src/incidents/engine.js';
import { MAX_EVIDENCE_ITEMS } from '../../src/incidents/commands.js';
import { buildDiscordPayload, DISCORD_LIMITS } from '../../src/notify/discord-payload.js';
import { NO_DISCORD, route } from '../../src/notify/route.js';
import { consoleSink } from '../../src/notify/sinks/console.js';
import { withTriage } from '../../src/triage/runner.js';
import type { Evidence, IncidentEvent } from '../../src/types.js';
import { validatePayload } from '../helpers/fake-discord.js';
import { config, fail, meta, T0 } from '../incidents/fixtures.js';

const cfg = config([meta('db-ready', { service: 'db', failureThreshold: 1 })]);
const opened = step(initialState(), { probe: 'db-ready', findings: [fail('db-ready')] }, T0, cfg);
const openedEvent = opened.events[0]!;
const items: Evidence[] = [
  { at: T0 + 500, source: 'compose-ps:app-1', text: 'NAME  SERVICE  STATE' },
  { at: T0 + 600, source: 'connections:db', text: 'connection refused' },
];

t.test('the evidence command appends to the incident, announces nothing, and answers not_found for an unknown id', async (t) => {
  const result = command(opened.state, { type: 'evidence', incidentId: openedEvent.incidentId, items }, T0 + 1_000, cfg);
  if (!result.ok) throw new Error(result.message);
  t.same(result.incident.evidence.map((e) => e.source), ['db-ready', 'compose-ps:app-1', 'connections:db'], "after the root finding's own");
  t.same(result.events, [], 'no page, no log line of its own');
  t.same(result.changed.timeline, [], 'no timeline entry');
  t.same(result.changed.incidents.map((i) => i.id), [openedEvent.incidentId], 'the incident is written');
  t.equal(opened.state.incidents.get(openedEvent.incidentId)!.evidence.length, 1, 'the input state is untouched');
  t.match(command(opened.state, { type: 'evidence', incidentId: 999, items }, T0, cfg), { ok: false, code: 'not_found' });
});

t.test('a flapping incident keeps its first evidence and the newest, up to the cap', async (t) => {
  let state = opened.state;
  for (let i = 0; i < 30; i++) {
    const batch = Array.from({ length: 5 }, (_, j) => ({ at: T0 + i, source: `step-${i}-${j}`, text: 'x' }));
    const r = command(state, { type: 'evidence', incidentId: openedEvent.incidentId, items: batch }, T0 + i, cfg);
    if (!r.ok) throw new Error(r.message);
    state = r.state;
  }
  const evidence = state.incidents.get(openedEvent.incidentId)!.evidence;
  t.equal(evidence.length, MAX_EVIDENCE_ITEMS);
  t.equal(evidence[0]!.source, 'db-ready', 'the root finding evidence stays first');
  t.equal(evidence.at(-1)!.source, 'step-29-4', 'the newest is kept');
});

t.test('the #errors embed shows the summary in a Triage field, fenced and within every Discord limit', async (t) => {
  const event: IncidentEvent = { ...openedEvent, triage: '✗ connections db: connection refused\n· 4 containers on app-1, all running' };
  const embed = buildDiscordPayload(event, 'errors', { publicUrl: null })!.embeds![0]!;
  const field = embed.fields.find((f) => f.name === 'Triage');
  t.equal(field?.value, '```\n✗ connections db: connection refused\n· 4 containers on app-1, all running\n```');
  t.equal(field?.inline, false);
  t.notOk(buildDiscordPayload(openedEvent, 'errors', { publicUrl: null })!.embeds![0]!.fields.some((f) => f.name === 'Triage'), 'no field without a summary');
  t.equal(buildDiscordPayload(event, 'ops', { publicUrl: null })!.content, '[INCIDENT] S1 - db-ready down on production. Investigating.', '#ops is unchanged');

  const hostile = { ...event, triage: `\`\`\`@everyone ${'y'.repeat(5_000)}`, evidence: 'z'.repeat(5_000), message: 'm'.repeat(3_000) };
  const payload = buildDiscordPayload(hostile, 'errors', { publicUrl: 'https://vigil.example.internal' })!;
  t.same(validatePayload(payload), {}, 'the strict fake accepts it');
  const value = payload.embeds![0]!.fields.find((f) => f.name === 'Triage')!.value;
  t.ok(value.length <= DISCORD_LIMITS.fieldValue && value.endsWith('\n```'), 'cut inside its fence');
  t.notOk(value.slice(3, -3).includes('```'), 'the output cannot close the fence');
});

t.test('the console line carries the summary as a field once the message was released with it', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ base: null }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const [r] = route(openedEvent, NO_DISCORD);
  const sink = consoleSink(log);
  const msg = { id: 1, sink: r!.sink, channel: r!.channel, createdAt: T0, incidentId: openedEvent.incidentId, event: openedEvent.type };
  await sink.deliver({ ...msg, body: withTriage(r!.body, '✗ connections db: connection refused') }, AbortSignal.timeout(1_000));
  await sink.deliver({ ...msg, body: r!.body }, AbortSignal.timeout(1_000));
  t.match(lines[0], { msg: '[INCIDENT] S1 - db-ready down on production. Investigating.', incident_id: openedEvent.incidentId, triage: '✗ connections db: connection refused' });
  t.notOk('triage' in lines[1]!, 'a message released without a summary (after a crash) prints as before');
});
