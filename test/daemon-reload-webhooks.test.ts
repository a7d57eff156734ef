// A Discord webhook that answered 404 is marked dead and not called again; a reload that keeps its URL
// leaves it dead (a deleted webhook stays deleted), a reload that gives a new URL revives the channel.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import type { Config } from '../src/config/types.js';
import { httpTestProbe, testConfig } from './helpers/config.js';
import { FakeDiscord } from './helpers/fake-discord.js';
import { scriptedRuns, startScriptedDaemon } from './helpers/scripted-daemon.js';
import { tmpDir } from './helpers/tmp.js';
import { waitFor } from './helpers/vigil-process.js';

function config(dir: string, ops: string): Config {
  const probe = { ...httpTestProbe({ id: 'api', severity: 'S1', summary: 'Backend API down' }), intervalMs: 300, timeoutMs: 60_000, failureThreshold: 1, successThreshold: 1 };
  const base = testConfig();
  return testConfig({ store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 }, probes: [probe], alerts: { ...base.alerts, discord: { errors: null, warnings: null, ops } } });
}

t.test('a reload revives a dead webhook only with a new URL', { timeout: 90_000 }, async (t) => {
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const gone = discord.webhook('ops-old');
  discord.deleteWebhook('ops-old');
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'info', base: null }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  /** The events of the messages given up, in order. */
  const dead = () => lines.filter((l) => l.msg === 'outbox: message given up (dead letter)').map((l) => l.event as string);
  const dir = tmpDir(t);
  const runs = scriptedRuns();
  const daemon = await startScriptedDaemon(t, runs, config(dir, gone), { log });

  // Down: the [INCIDENT] meets a deleted webhook, which is marked dead.
  runs.autoFinish(false);
  await waitFor(() => lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Discord webhook for #ops is gone')), 20_000, () => 'the 404 was not taken as a dead webhook');
  await waitFor(() => dead().length === 1, 20_000, () => `dead letters: ${dead()}`);
  t.equal(discord.count(404, 'ops-old'), 1, 'Discord was asked once');

  // Up again: the [RESOLVED] and the review are given up without calling the dead webhook.
  runs.autoFinish(true);
  await waitFor(() => dead().length === 3, 20_000, () => `dead letters: ${dead()}`);
  t.same(dead(), ['opened', 'resolved', 'review']);
  t.equal(discord.requests.length, 1, 'the dead webhook was not called again');

  // A reload that keeps the URL: still dead, the next [INCIDENT] is not sent there either.
  daemon.reload(config(dir, gone));
  runs.autoFinish(false);
  await waitFor(() => dead().length === 4, 20_000, () => `dead letters: ${dead()}`);
  t.match(dead()[3], /opened/, 'the next [INCIDENT] given up too');
  t.equal(discord.requests.length, 1, 'a reload with the same URL does not revive it');

  // A reload with a new webhook: the channel lives again and the next message arrives.
  const fresh = discord.webhook('ops-new');
  daemon.reload(config(dir, fresh));
  runs.autoFinish(true);
  const resolved = await waitFor(() => discord.accepted('ops-new').find((m) => m.payload.content?.startsWith('[RESOLVED]')), 20_000, () => `nothing in the new webhook; ${JSON.stringify(discord.requests)}`);
  t.match(resolved.payload.content, /Backend API down/);
  t.equal(discord.count(404), 1, 'the old webhook was never called again');
  t.equal(dead().length, 4, 'nothing more given up');
});
