// End to end: the real `vigil run` pages the strict fake Discord as docs/messages.md says, ships logs and heartbeats
// to a fake Better Stack, and delivers what was pending at a SIGKILL after the restart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeBetterStack } from '../helpers/fake-betterstack.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';
import { Target, alertsConfig, api } from './alerts-fleet.js';

t.setTimeout(240_000);

const SOURCE_TOKEN = 'bs-e2e-source-token';

async function fleet(t: { teardown(fn: () => unknown): void }, withBetterStack: boolean) {
  const dir = tmpDir(t, 'vigil-alerts-');
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  await target.up();
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const webhooks = { errors: discord.webhook('errors'), warnings: discord.webhook('warnings'), ops: discord.webhook('ops') };
  const ingest = withBetterStack ? await FakeBetterStack.start(SOURCE_TOKEN) : null;
  if (ingest) t.teardown(() => ingest.close());
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, alertsConfig({ vigilPort, targetPort, dbPath: join(dir, 'vigil.db'), betterstackEndpoint: ingest?.endpoint }));
  const env = {
    DISCORD_WEBHOOK_ERRORS: webhooks.errors,
    DISCORD_WEBHOOK_WARNINGS: webhooks.warnings,
    DISCORD_WEBHOOK_OPS: webhooks.ops,
    BETTERSTACK_SOURCE_TOKEN: SOURCE_TOKEN,
    BETTERSTACK_HEARTBEAT_URL: ingest?.heartbeatUrl() ?? '',
  };
  const start = async () => {
    const vigil = new VigilProcess(['run', '--config', file], env);
    t.teardown(() => vigil.kill('SIGKILL'));
    await vigil.ready(vigilPort);
    return vigil;
  };
  return { vigilPort, target, discord, webhooks, ingest, start };
}

t.test('down, worse, recovered: the exact ordered sequence in #ops and #errors, logs and heartbeats in Better Stack', async (t) => {
  const { vigilPort, target, discord, webhooks, ingest, start } = await fleet(t, true);
  const vigil = await start();
  await target.down();
  await waitFor(() => discord.accepted('ops').length >= 2, 30_000, () => JSON.stringify(discord.accepted('ops').map((a) => a.payload)));
  await target.up();
  await waitFor(() => discord.accepted('ops').length >= 3 && discord.accepted('errors').length >= 3, 30_000, () => JSON.stringify(discord.requests.slice(-10)));
  await new Promise((r) => setTimeout(r, 1_500)); // anything extra would show up by now

  // The post-incident review draft of an S1/S2 may follow in #ops; it is another feature's line.
  const ops = discord.accepted('ops').map((a) => a.payload.content as string).filter((line) => !line.startsWith('[REVIEW]'));
  t.equal(ops.length, 3, `three #ops lines, no more: ${JSON.stringify(ops)}`);
  t.equal(ops[0], '[INCIDENT] S2 - Backend API down on production. Investigating.');
  t.equal(ops[1], '[INCIDENT] S1 - Backend API down on production. Escalated from S2.');
  t.match(ops[2], /^\[RESOLVED\] S1 - Backend API down on production\. Resolved after \d+s\.$/);

  const embeds = discord.accepted('errors').map((a) => a.payload.embeds[0]);
  t.equal(embeds.length, 3, 'three #errors embeds');
  t.match(embeds[0], { title: 'S2 · Backend API down · production', color: 0xe67e22, url: new RegExp(`^http://127\\.0\\.0\\.1:${vigilPort}/status/incidents/\\d+$`) });
  t.match(embeds[0].description, /^\*\*What failed:\*\* connection \w+/);
  t.ok(embeds[0].fields.some((f: { name: string }) => f.name === 'Respond by'), 'S2 has a respond-by time');
  t.match(embeds[1], { title: 'S1 · Backend API down · production', color: 0xed4245 });
  t.match(embeds[1].description, /^Escalated from S2\./);
  t.match(embeds[2], { title: 'Resolved · S1 · Backend API down · production', color: 0x57f287, description: /^Resolved after \d+s\.$/ });
  t.equal(discord.accepted('warnings').length, 0, 'nothing in #warnings');
  for (const a of [...discord.accepted('ops'), ...discord.accepted('errors')]) {
    t.strictSame(a.payload.allowed_mentions, { parse: [] });
    t.equal(a.payload.username, 'vigil');
  }
  t.strictSame(discord.rejected, [], 'the strict fake refused nothing');
  const metrics = (await api(vigilPort, '/metrics')).body as string;
  t.match(metrics, new RegExp(`vigil_notifications_total\\{sink="discord",channel="ops",outcome="delivered"\\} ${discord.accepted('ops').length}\n`));
  t.match(metrics, /vigil_notifications_total\{sink="discord",channel="errors",outcome="delivered"\} 3\n/);
  t.match(metrics, /vigil_outbox_pending 0/);

  await waitFor(() => ingest!.records.some((r) => r.event === 'resolved'), 20_000, () => `${ingest!.records.length} records`);
  t.match(ingest!.records.find((r) => r.event === 'opened'), {
    level: 'error', incident_id: Number, severity: 'S2', environment: 'production', service: 'backend', probe: 'backend-health', summary: 'Backend API down',
    message: '[INCIDENT] S2 - Backend API down on production. Investigating.',
  });
  t.ok(ingest!.heartbeats.length >= 1, `heartbeats arrived (${ingest!.heartbeats.length})`);
  t.equal(ingest!.unauthorized, 0);

  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null }, 'stops cleanly');
  t.ok(ingest!.records.some((r) => r.message === 'vigil stopped'), 'the last line was flushed to Better Stack at stop');
  const secrets = [...Object.values(webhooks).map((u) => u.split('/').pop()!), SOURCE_TOKEN, 'hb-secret-123'];
  for (const s of secrets) t.notOk(vigil.stdout.includes(s) || vigil.stderr.includes(s), 'no secret in the output');
});

t.test('SIGKILL while Discord is down: the pending pages are delivered after the restart, once each', async (t) => {
  const { target, discord, start } = await fleet(t, false);
  discord.outage(10 * 60_000);
  let vigil = await start();
  await target.down();
  await vigil.waitForLine((l) => l.event === 'opened');
  await vigil.waitForLine((l) => /will retry/.test(l.msg) && l.channel === 'ops');
  t.equal(discord.accepted('ops').length, 0, 'nothing accepted during the outage');
  vigil.kill('SIGKILL');
  await vigil.exited;
  discord.outage(0);
  vigil = await start();
  // Still down, it escalates after 2 s, before or after the crash: both pages, in order, once each.
  await waitFor(() => discord.accepted('ops').length >= 2 && discord.accepted('errors').length >= 2, 60_000, () => JSON.stringify(discord.requests.slice(-5)));
  await new Promise((r) => setTimeout(r, 1_500));
  t.strictSame(
    discord.accepted('ops').map((a) => a.payload.content),
    ['[INCIDENT] S2 - Backend API down on production. Investigating.', '[INCIDENT] S1 - Backend API down on production. Escalated from S2.'],
    'delivered once each after the restart, in order',
  );
  t.strictSame(discord.accepted('errors').map((a) => a.payload.embeds[0].title), ['S2 · Backend API down · production', 'S1 · Backend API down · production']);
  t.equal(vigil.lines.filter((l) => l.event === 'opened').length, 0, 'the restart does not open it again');
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
});

t.test('Better Stack down: probing, the store and Discord carry on; the dropped records are counted', async (t) => {
  const { vigilPort, target, discord, ingest, start } = await fleet(t, true);
  await ingest!.setMode('down');
  const vigil = await start();
  await target.down();
  await waitFor(() => discord.accepted('ops').length >= 1, 30_000, () => JSON.stringify(discord.requests.slice(-5)));
  t.equal(discord.accepted('ops')[0]!.payload.content, '[INCIDENT] S2 - Backend API down on production. Investigating.');
  const open = await api(vigilPort, '/api/incidents?state=open');
  t.equal(open.body.incidents.length, 1, 'the incident is in the store');
  const dropped = await waitFor(async () => {
    const m = ((await api(vigilPort, '/metrics')).body as string).match(/^vigil_log_records_dropped_total (\d+)/m);
    return m && Number(m[1]) > 0 ? Number(m[1]) : null;
  }, 30_000, () => `refused ${ingest!.refused}`);
  t.ok(dropped > 0, `${dropped} records counted as dropped`);
  t.equal((await api(vigilPort, '/healthz')).status, 200, 'vigil stays healthy');
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null }, 'and still stops cleanly within the deadline');
});
