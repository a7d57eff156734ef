// End to end: one `vigil run` holds its store; a second is refused naming it, while the reading
// commands keep working beside it without the daemon's secrets; a store that is not vigil's is refused.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VIGIL_BIN, VigilProcess, freePort } from '../helpers/vigil-process.js';
import { Target, alertsConfig, api } from './alerts-fleet.js';

t.setTimeout(120_000);

/** Runs the real CLI to completion, with `env` as the whole environment besides PATH and HOME. */
function vigil(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

t.test('a second vigil run on the same store exits 1 naming the holder; incidents and review read beside it', async (t) => {
  const dir = tmpDir(t, 'vigil-exclusive-');
  const [vigilPort, otherPort, targetPort] = [await freePort(), await freePort(), await freePort()];
  const target = new Target(targetPort);
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const db = join(dir, 'vigil.db');
  const file = join(dir, 'vigil.yaml');
  const second = join(dir, 'second.yaml');
  writeFileSync(file, alertsConfig({ vigilPort, targetPort, dbPath: db }));
  // Another listen address, so only the store can be what stops it.
  writeFileSync(second, alertsConfig({ vigilPort: otherPort, targetPort, dbPath: db }));
  const env = { DISCORD_WEBHOOK_ERRORS: discord.webhook('errors'), DISCORD_WEBHOOK_WARNINGS: discord.webhook('warnings'), DISCORD_WEBHOOK_OPS: discord.webhook('ops') };
  const daemon = new VigilProcess(['run', '--config', file], env);
  t.teardown(() => daemon.kill('SIGKILL'));
  await daemon.ready(vigilPort);
  const opened = await daemon.waitForLine((l) => l.event === 'opened');

  const copy = await vigil(['run', '--config', second], env);
  t.equal(copy.code, 1, 'the second daemon exits 1');
  // Within a second on an idle machine; the bound only catches a hang (this machine may be shared).
  t.ok(copy.ms < 30_000, `and does so at once (${copy.ms} ms, node's start-up included)`);
  const fatal = copy.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string; err?: { code?: string } }).find((l) => l.level === 'fatal');
  t.match(fatal?.msg, `vigil could not start: store ${db} is in use by vigil pid ${daemon.child.pid}`);
  t.equal(fatal?.err?.code, 'VIGIL_ERR_STORE_IN_USE');
  t.equal((await fetch(`http://127.0.0.1:${otherPort}/healthz`).catch(() => null))?.status, undefined, 'it never listened');

  // Neither reading command needs the webhook variables the daemon needs.
  const listed = await vigil(['incidents', '--json', '--config', file]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(JSON.parse(listed.stdout), { incidents: [{ id: opened.incident_id, state: 'open' }] });
  const review = await vigil(['review', String(opened.incident_id), '--config', file]);
  t.equal(review.code, 0, review.stderr);
  t.match(review.stdout, /^# Post-incident review: #1 S[12] Backend API down on production\n/);

  await target.up();
  await daemon.waitForLine((l) => l.event === 'resolved');
  t.equal(discord.accepted('ops').filter((a) => /^\[INCIDENT\] S2 .*Investigating\.$/.test(String(a.payload.content))).length, 1, 'paged once');
  t.equal((await api(vigilPort, '/healthz')).status, 200, 'the first daemon carries on');
  daemon.kill('SIGTERM');
  t.same(await daemon.exited, { code: 0, signal: null });
  const next = new VigilProcess(['run', '--config', second], env);
  t.teardown(() => next.kill('SIGKILL'));
  await next.ready(otherPort);
  t.pass('the store is free once its holder stopped');
  next.kill('SIGTERM');
  t.same(await next.exited, { code: 0, signal: null });
});

t.test('an empty or corrupt store: vigil run refuses it, vigil incidents says so in one line', async (t) => {
  const dir = tmpDir(t, 'vigil-badstore-');
  const port = await freePort();
  const db = join(dir, 'vigil.db');
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, `server: { listen: 127.0.0.1:${port} }\nstore: { path: ${db} }\nenvironments: { production: {} }\nprobes: []\n`);

  writeFileSync(db, '');
  const run = await vigil(['run', '--config', file]);
  t.equal(run.code, 1);
  t.match(run.stdout, `${db} is an empty file (0 bytes), not a vigil store`);
  const empty = await vigil(['incidents', '--config', file]);
  t.same([empty.code, empty.stdout], [1, '']);
  t.match(empty.stderr, /^vigil: .* is an empty file \(0 bytes\), not a vigil store: .*\n$/);

  writeFileSync(db, Buffer.alloc(8192, 0x5a));
  const corrupt = await vigil(['incidents', '--config', file]);
  t.equal(corrupt.code, 1);
  t.equal(corrupt.stderr, `vigil: cannot open ${db}: not a SQLite database\n`);
  t.notMatch(corrupt.stderr, /\n\s+at /, 'no stack trace');
  const review = await vigil(['review', '1', '--config', file]);
  t.same([review.code, review.stderr], [1, `vigil: cannot open ${db}: not a SQLite database\n`]);
});
