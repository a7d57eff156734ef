// End to end: Discord answers 503 for two minutes, then recovers; the real `vigil run` delivers
// every page of the incident that came and went meanwhile, once each and in order. (~3 minutes.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';
import { Target, alertsConfig, api } from './alerts-fleet.js';

const OUTAGE_MS = 2 * 60_000;
t.setTimeout(360_000);

t.test('Discord 503 for 2 minutes, then healthy: every message delivered once, in order', async (t) => {
  const dir = tmpDir(t, 'vigil-outage-');
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  await target.up();
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, alertsConfig({ vigilPort, targetPort, dbPath: join(dir, 'vigil.db') }));
  const vigil = new VigilProcess(['run', '--config', file], {
    DISCORD_WEBHOOK_ERRORS: discord.webhook('errors'),
    DISCORD_WEBHOOK_WARNINGS: discord.webhook('warnings'),
    DISCORD_WEBHOOK_OPS: discord.webhook('ops'),
  });
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.ready(vigilPort);

  const outageEnds = Date.now() + OUTAGE_MS;
  discord.outage(OUTAGE_MS);
  await target.down();
  await vigil.waitForLine((l) => l.event === 'escalated', 30_000);
  await target.up();
  await vigil.waitForLine((l) => l.event === 'resolved', 30_000);
  t.equal(discord.accepted('ops').length + discord.accepted('errors').length, 0, 'nothing got through the outage');

  // Backoff is capped at 1 minute (with jitter up to it), so everything is in within ~70 s of the end.
  await waitFor(() => discord.accepted('ops').length >= 3 && discord.accepted('errors').length >= 3, OUTAGE_MS + 100_000, () => JSON.stringify(discord.requests.slice(-6)));
  await new Promise((r) => setTimeout(r, 2_000));
  const ops = discord.accepted('ops');
  t.ok(ops.every((a) => a.at >= outageEnds), 'accepted only after the outage');
  const lines = ops.map((a) => a.payload.content as string).filter((line) => !line.startsWith('[REVIEW]'));
  t.equal(lines.length, 3, `each once: ${JSON.stringify(lines)}`);
  t.equal(lines[0], '[INCIDENT] S2 - Backend API down on production. Investigating.');
  t.equal(lines[1], '[INCIDENT] S1 - Backend API down on production. Escalated from S2.');
  t.match(lines[2], /^\[RESOLVED\] S1 - Backend API down on production\. Resolved after \d+s\.$/);
  t.strictSame(
    discord.accepted('errors').map((a) => a.payload.embeds[0].title),
    ['S2 · Backend API down · production', 'S1 · Backend API down · production', 'Resolved · S1 · Backend API down · production'],
  );
  t.ok(discord.count(503) >= 4, `retried through the outage (${discord.count(503)} answers of 503)`);
  t.ok(discord.count(503) < 60, 'with backoff, not a request storm');
  const metrics = (await api(vigilPort, '/metrics')).body as string;
  t.match(metrics, /vigil_notifications_total\{sink="discord",channel="ops",outcome="failed"\} [1-9]/);
  t.match(metrics, /vigil_outbox_pending 0/);
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
});
