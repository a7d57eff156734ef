// Reading Better Stack incidents back: an ack or resolve made there becomes one engine command, once.
import { pino } from 'pino';
import t from 'tap';
import type { Command, CommandResult } from '../../src/incidents/state.js';
import { commandFor, OncallSync } from '../../src/notify/oncall-sync.js';
import { openStore } from '../../src/store/sqlite.js';
import type { Incident } from '../../src/types.js';
import { FakeBetterStackUptime } from '../helpers/fake-betterstack-uptime.js';
import { matchExactly } from '../helpers/match.js';

const TOKEN = 'uptime-sync-token-789';
const row = { remoteId: '9000', incidentId: 4, outboxId: 1, createdAt: 0, state: 'open' as const, updatedAt: 0 };
const none = { acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null };

t.test('commandFor: resolve wins, ack only while vigil still waits for one, nothing for a resolved incident', async (t) => {
  const open = { id: 4, state: 'open' as const };
  t.equal(commandFor(row, none, open), null);
  t.same(commandFor(row, { ...none, acknowledgedAt: 'x', acknowledgedBy: 'alice' }, open), { type: 'ack', incidentId: 4, by: 'alice', via: 'Better Stack' });
  t.same(commandFor(row, { ...none, acknowledgedAt: 'x' }, open), { type: 'ack', incidentId: 4, by: 'Better Stack', via: 'Better Stack' });
  t.equal(commandFor(row, { ...none, acknowledgedAt: 'x' }, { id: 4, state: 'acknowledged' }), null, 'acknowledged in vigil already');
  t.equal(commandFor({ ...row, state: 'acknowledged' }, { ...none, acknowledgedAt: 'x' }, open), null, 'that ack was seen before (vigil reopened since)');
  t.same(commandFor(row, { ...none, acknowledgedAt: 'x', resolvedAt: 'y', resolvedBy: 'bob' }, open), { type: 'resolve', incidentId: 4, by: 'bob', via: 'Better Stack' });
  t.equal(commandFor(row, { ...none, resolvedAt: 'y' }, { id: 4, state: 'resolved' }), null);
  t.equal(commandFor(row, { ...none, resolvedAt: 'y' }, undefined), null);
});

t.test('an ack then a resolve on the phone each reach vigil once; a resolved one is no longer read', async (t) => {
  const fake = await new FakeBetterStackUptime({ token: TOKEN }).start();
  t.teardown(() => fake.close());
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'debug', base: null, formatters: { level: (l) => ({ level: l }) } }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const created = await fetch(`${fake.url}/api/v3/incidents`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ requester_email: 'v@sartiq.com', summary: 's' }) });
  const remoteId = ((await created.json()) as { data: { id: string } }).data.id;
  store.recordOncallIncident({ remoteId, incidentId: 4, outboxId: 1, at: 0 });
  let incident = { id: 4, state: 'open' } as Incident;
  const commands: Command[] = [];
  const dispatch = (cmd: Command): CommandResult => {
    commands.push(cmd);
    incident = { ...incident, state: cmd.type === 'ack' ? 'acknowledged' : 'resolved' };
    return { ok: true } as CommandResult;
  };
  const config = { apiToken: TOKEN, apiUrl: fake.url, requesterEmail: 'v@sartiq.com', severities: {}, policyId: null, teamWaitMs: null, syncIntervalMs: 30_000 };
  const sync = new OncallSync({ config, store, incident: () => incident, dispatch, log });
  await sync.runOnce();
  t.same(commands, []);
  fake.acknowledgeFromPhone(remoteId, 'alice@sartiq.com');
  await sync.runOnce();
  await sync.runOnce();
  t.same(commands, [{ type: 'ack', incidentId: 4, by: 'alice@sartiq.com', via: 'Better Stack' }]);
  t.match(store.oncallIncidentsOf(4), [{ state: 'acknowledged' }]);
  fake.resolveFromPhone(remoteId, 'alice@sartiq.com');
  await sync.runOnce();
  t.same(commands.at(-1), { type: 'resolve', incidentId: 4, by: 'alice@sartiq.com', via: 'Better Stack' });
  const reads = fake.calls.filter((c) => c.method === 'GET').length;
  await sync.runOnce();
  t.equal(fake.calls.filter((c) => c.method === 'GET').length, reads, 'nothing more to read');
  t.equal(commands.length, 2);
  t.ok(lines.some((l) => /acknowledged in Better Stack/.test(l.msg)));
});

t.test('a refused token is said once at error, not at every interval', async (t) => {
  const fake = await new FakeBetterStackUptime({ token: TOKEN }).start();
  t.teardown(() => fake.close());
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  store.recordOncallIncident({ remoteId: '1', incidentId: 4, outboxId: 1, at: 0 });
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'debug', base: null, formatters: { level: (l) => ({ level: l }) } }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const config = { apiToken: 'wrong', apiUrl: fake.url, requesterEmail: 'v@sartiq.com', severities: {}, policyId: null, teamWaitMs: null, syncIntervalMs: 30_000 };
  const sync = new OncallSync({ config, store, incident: () => undefined, dispatch: () => ({ ok: true }) as CommandResult, log });
  await sync.runOnce();
  await sync.runOnce();
  t.equal(fake.calls.length, 2);
  matchExactly(t, lines.filter((l) => l.level === 'error'), [{ msg: /answered 401.*api_token_env/ }]);
  t.equal(lines.filter((l) => l.level === 'error').length, 1);
});
