// The heartbeat: pings while vigil works, falls silent when the store stops writing, never logs its URL.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { Daemon } from '../../src/daemon.js';
import { Heartbeat } from '../../src/heartbeat.js';
import { createMetrics } from '../../src/metrics.js';
import { testConfig } from '../helpers/config.js';
import { FakeBetterStack } from '../helpers/fake-betterstack.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const SECRET = 'hb-token-s3cr3t';

function memoryLog() {
  const raw: string[] = [];
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'debug', base: null }, { write: (l: string) => (raw.push(l), lines.push(JSON.parse(l))) });
  return { log, raw, lines };
}

/** The strict fake Better Stack, knowing one heartbeat: counts only GET/HEAD/POST of that id. */
async function heartbeatServer(t: { teardown(fn: () => unknown): void }) {
  const fake = await FakeBetterStack.start('unused-source-token', { heartbeats: [SECRET] });
  t.teardown(() => fake.close());
  return { fake, hits: fake.heartbeats, url: fake.heartbeatUrl(SECRET) };
}

t.test('Heartbeat: sent while healthy, withheld while not, failures counted without the URL', async (t) => {
  const hb = await heartbeatServer(t);
  const metrics = createMetrics('test', { defaults: false });
  const { log, raw, lines } = memoryLog();
  let health = { ok: true, reason: undefined as string | undefined };
  const beat = new Heartbeat({ url: hb.url, intervalMs: 60_000, health: () => health, log, metrics });
  t.equal(await beat.beat(), 'sent');
  await waitFor(() => hb.hits.length === 1, 5_000, () => JSON.stringify(hb.fake.heartbeatRequests));
  t.match(hb.hits[0], { method: 'GET', id: SECRET }, 'Better Stack counted it: its heartbeat id, a method it takes');
  health = { ok: false, reason: 'the store does not write' };
  t.equal(await beat.beat(), 'withheld');
  t.equal(await beat.beat(), 'withheld');
  t.equal(hb.hits.length, 1, 'no ping while unhealthy');
  t.equal(lines.filter((l) => /heartbeat withheld: the store does not write/.test(l.msg)).length, 1, 'said once, at error');
  health = { ok: true, reason: undefined };
  t.equal(await beat.beat(), 'sent');
  await waitFor(() => hb.hits.length === 2, 5_000, () => JSON.stringify(hb.fake.heartbeatRequests));

  const down = new Heartbeat({ url: hb.url.replace(/:\d+\//, ':9/'), intervalMs: 60_000, health: () => ({ ok: true }), log, metrics });
  t.equal(await down.beat(), 'failed');
  const text = await metrics.registry.metrics();
  t.match(text, /vigil_heartbeats_total\{outcome="sent"\} 2/);
  t.match(text, /vigil_heartbeats_total\{outcome="withheld"\} 2/);
  t.match(text, /vigil_heartbeats_total\{outcome="failed"\} 1/);
  t.notOk(raw.some((l) => l.includes(SECRET)), 'the heartbeat URL never reaches the log');
});

t.test("a heartbeat Better Stack does not know, or refuses for now (429, 413), is a failed ping, said once without the URL", async (t) => {
  const hb = await heartbeatServer(t);
  const metrics = createMetrics('test', { defaults: false });
  const { log, raw, lines } = memoryLog();
  const unknown = new Heartbeat({ url: hb.fake.heartbeatUrl('hb-token-typo'), intervalMs: 60_000, health: () => ({ ok: true }), log, metrics });
  t.equal(await unknown.beat(), 'failed', 'an id Better Stack does not know');
  t.match(lines.at(-1), { level: 40, reason: 'heartbeat answered 404', msg: 'heartbeat ping failed' });

  const beat = new Heartbeat({ url: hb.url, intervalMs: 60_000, health: () => ({ ok: true }), log, metrics });
  await hb.fake.script('heartbeat', 429, 413);
  t.equal(await beat.beat(), 'failed', 'rate limited');
  t.equal(await beat.beat(), 'failed', 'too large');
  t.equal(lines.filter((l) => l.msg === 'heartbeat ping failed' && l.reason === 'heartbeat answered 429').length, 1, 'the first failure is logged with its status');
  t.equal(await beat.beat(), 'sent', 'and the next interval gets through');
  t.ok(lines.some((l) => l.msg === 'heartbeat delivered again'));
  await waitFor(() => hb.fake.heartbeatRequests.length === 4, 5_000, () => JSON.stringify(hb.fake.heartbeatRequests));
  t.same(hb.fake.heartbeatRequests.map((r) => [r.id, r.status]), [['hb-token-typo', 404], [SECRET, 429], [SECRET, 413], [SECRET, 200]]);
  t.equal(hb.hits.length, 1, 'only the last one counted');
  t.match(await metrics.registry.metrics(), /vigil_heartbeats_total\{outcome="failed"\} 3/);
  t.notOk(raw.some((l) => l.includes(SECRET) || l.includes('hb-token-typo')), 'no heartbeat id in the log');
});

t.test('the daemon pings every heartbeat_interval and stops when its store stops writing', async (t) => {
  const hb = await heartbeatServer(t);
  const dir = tmpDir(t);
  const base = testConfig();
  const config = testConfig({
    store: { path: join(dir, 'vigil.db'), retentionMs: base.store.retentionMs },
    alerts: { ...base.alerts, betterstack: { sourceToken: null, endpoint: 'http://127.0.0.1:9/', heartbeatUrl: hb.url, heartbeatIntervalMs: 200 } },
  });
  const { log } = memoryLog();
  const daemon = await Daemon.start({ config, log, version: 'test', listen: false });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await daemon.stop().catch(() => undefined);
  });
  await waitFor(() => hb.hits.length >= 3, 15_000, () => `${hb.hits.length} pings`);
  t.pass('pings while healthy');
  daemon.store.close(); // the store can no longer write
  // Beats never overlap, so once one was withheld no ping begun before the close is still on its way
  // (after a fixed 300 ms wait, a ping slowed down by a loaded machine could land after the count).
  const withheld = /vigil_heartbeats_total\{outcome="withheld"\} [1-9]/;
  await waitFor(async () => withheld.test(await daemon.metrics.registry.metrics()), 15_000, () => 'no beat was withheld');
  const silentFrom = hb.hits.length;
  await new Promise((r) => setTimeout(r, 1_200));
  t.equal(hb.hits.length, silentFrom, 'no ping once the store fails');
  stopped = true;
  await daemon.stop().catch(() => undefined); // the closed store refuses the last flush
});

t.test('stop() does not wait for a ping the ingest never answers (SIGTERM has 15 s in all)', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const silent: Server = createServer(() => undefined); // accepts the request, never answers
  silent.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), silent.close(() => r()))));
  const port = (silent.address() as { port: number }).port;
  const { log, raw } = memoryLog();
  const beat = new Heartbeat({ url: `http://127.0.0.1:${port}/api/v1/heartbeat/${SECRET}`, intervalMs: 60_000, timeoutMs: 10_000, health: () => ({ ok: true }), log });
  beat.start();
  await waitFor(() => sockets.size > 0, 5_000, () => 'the ping never connected');
  const started = Date.now();
  await beat.stop();
  t.ok(Date.now() - started < 2_000, `stopped in ${Date.now() - started} ms, not after the 10 s ping timeout`);
  t.notOk(raw.some((l) => /heartbeat ping failed/.test(l)), 'a ping cut short by stop() is not reported as a failure');
});
