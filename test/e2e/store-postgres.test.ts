// End to end: `vigil run` keeps its store in PostgreSQL (store.postgres.url_env); `vigil incidents` and
// `vigil review` read it there; PostgreSQL restarted under the daemon loses nothing and pages nothing twice.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { startPostgres, SUPERUSER_PASSWORD } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, runCli, waitFor } from '../helpers/vigil-process.js';
import { Target, alertsConfig, api } from './alerts-fleet.js';

t.setTimeout(300_000);

t.test('vigil run on PostgreSQL: read by incidents and review, a PostgreSQL restart survived without a second page', async (t) => {
  const server = await startPostgres(t);
  const dir = tmpDir(t, 'vigil-pgstore-');
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const file = join(dir, 'vigil.yaml');
  const config = alertsConfig({ vigilPort, targetPort, dbPath: 'unused' }).replace(/store:\n {2}path: unused\n/, 'store:\n  postgres: { url_env: VIGIL_STORE_URL }\n');
  t.match(config, /postgres: \{ url_env: VIGIL_STORE_URL \}/);
  writeFileSync(file, config);
  const webhooks = { DISCORD_WEBHOOK_ERRORS: discord.webhook('errors'), DISCORD_WEBHOOK_WARNINGS: discord.webhook('warnings'), DISCORD_WEBHOOK_OPS: discord.webhook('ops') };
  const store = { VIGIL_STORE_URL: server.superuserUrl };

  const invalid = await runCli(['validate', '--config', file], { ...webhooks, VIGIL_STORE_URL: '' });
  t.equal(invalid.code, 78, 'validate refuses the config without the store URL');
  t.match(invalid.stderr, 'store.postgres.url_env: environment variable VIGIL_STORE_URL is empty');
  const unread = await runCli(['incidents', '--config', file], { VIGIL_STORE_URL: '' });
  t.equal(unread.code, 78, 'so do the reading commands');

  const daemon = new VigilProcess(['run', '--config', file], { ...webhooks, ...store });
  t.teardown(() => daemon.kill('SIGKILL'));
  await daemon.ready(vigilPort, 60_000);
  const opened = await daemon.waitForLine((l) => l.event === 'opened');
  await waitFor(() => discord.accepted('ops').length >= 1, 30_000, () => 'the opening was not paged');

  const listed = await runCli(['incidents', '--json', '--config', file], { ...store, VIGIL_LOG_LEVEL: 'silent' });
  t.equal(listed.code, 0, listed.stderr);
  t.match(JSON.parse(listed.stdout), { incidents: [{ id: opened.incident_id, state: 'open' }] }, 'incidents reads the PostgreSQL store');
  const review = await runCli(['review', String(opened.incident_id), '--config', file], store);
  t.equal(review.code, 0, review.stderr);
  t.match(review.stdout, /^# Post-incident review: #1 S[12] Backend API down on production\n/);

  // PostgreSQL goes away; the target recovers meanwhile: the resolution is paged from memory.
  await server.stop();
  await target.up();
  await daemon.waitForLine((l) => l.event === 'resolved', 60_000);
  await waitFor(() => discord.accepted('ops').some((a) => /^\[RESOLVED\]/.test(String(a.payload.content))), 30_000, () => 'the resolution was not paged');
  await waitFor(async () => (await api(vigilPort, '/healthz')).status === 503, 30_000, () => '/healthz never said the store does not write');

  await server.start();
  await waitFor(async () => (await api(vigilPort, '/healthz')).status === 200, 60_000, () => 'never healthy again');
  t.ok(daemon.lines.some((l) => l.msg === 'store writes again: the changes kept in memory are written'), 'written back');
  const after = await runCli(['incidents', '--json', '--config', file], { ...store, VIGIL_LOG_LEVEL: 'silent' });
  t.match(JSON.parse(after.stdout), { incidents: [{ id: opened.incident_id, state: 'resolved' }] }, 'the resolution is in PostgreSQL');
  await new Promise((r) => setTimeout(r, 2_000)); // a second page would be on its way by now
  const ops = discord.accepted('ops').map((a) => String(a.payload.content)).filter((c) => !c.startsWith('[REVIEW]'));
  t.equal(ops.filter((c) => /^\[INCIDENT\] S2 .*Investigating\.$/.test(c)).length, 1, 'the opening paged once');
  t.equal(ops.filter((c) => c.startsWith('[RESOLVED]')).length, 1, 'the resolution paged once');
  t.same(ops, [...new Set(ops)], `no message twice: ${JSON.stringify(ops)}`);
  daemon.kill('SIGTERM');
  t.same(await daemon.exited, { code: 0, signal: null });
  const password = encodeURIComponent(SUPERUSER_PASSWORD);
  for (const [name, text] of [['log', daemon.stdout + daemon.stderr], ['incidents', listed.stdout + listed.stderr], ['review', review.stdout]] as const) {
    t.notOk(text.includes(SUPERUSER_PASSWORD) || text.includes(password), `the store's password is not in the ${name}`);
  }
});
