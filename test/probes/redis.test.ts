// The redis probe against Debian's redis-server: PING, memory, a queue growing past its threshold, one that stops draining, stopped, paused, loading, wrong password, and through an SSH tunnel.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { runProbe } from '../../src/probes/index.js';
import { queueHistory } from '../../src/probes/redis.js';
import type { Finding } from '../../src/types.js';
import { pgFleet } from '../helpers/pg.js';
import { redisMissing, startRedis } from '../helpers/redis.js';
import { startSshServer } from '../helpers/ssh-server.js';

const skip = redisMissing();
const PASSWORD = 'r3dis/pw@x!';

/** A config with one redis probe through the real loader; `clock` is the probe's now(). */
function fleet(t: Test, url: string, probe: string, timeout = '5s') {
  return pgFleet(t, `environments: { production: {} }\nprobes:\n  - { id: cache, type: redis, environment: production, url_env: REDIS_URL, timeout: ${timeout}, ${probe} }\n`, { REDIS_URL: url });
}

function byKey(findings: Finding[], key: string): Finding {
  const f = findings.find((x) => x.key === key);
  if (!f) throw new Error(`no finding ${key} in ${JSON.stringify(findings.map((x) => x.key))}`);
  return f;
}

function noSecret(t: Test, what: unknown) {
  const text = JSON.stringify(what);
  t.notOk(text.includes(PASSWORD) || text.includes(encodeURIComponent(PASSWORD)), 'the password appears nowhere');
}

t.test('a healthy Redis: PONG with its latency, INFO in the evidence, memory against maxmemory', { skip }, async (t) => {
  const redis = await startRedis(t, { password: PASSWORD, maxmemory: 64 * 1024 * 1024 });
  const f = fleet(t, redis.url, 'memory: { warn: 0.8, critical: 0.95 }');
  const run = await f.run('cache');
  t.equal(run.outcome, 'success');
  const ping = byKey(run.findings, 'cache');
  t.match(ping, { ok: true, message: new RegExp(`^PONG from 127\\.0\\.0\\.1:${redis.port}/0 in \\d+ms$`) });
  t.type(ping.values?.latency_seconds, 'number');
  t.match(ping.evidence, /^redis 7\.\d+\.\d+ · role master · up \d+s\nclients \d+ connected/);
  const memory = byKey(run.findings, 'cache:memory');
  t.match(memory, { ok: true, message: /^[\d.]+ (KiB|MiB) of maxmemory 64 MiB used \(\d+%, policy noeviction\)$/ });
  t.equal(f.config.probes[0]?.service, 'redis', 'filed under the redis service');
  noSecret(t, run);
});

t.test('memory past warn and critical; no maxmemory means not checked', { skip }, async (t) => {
  const redis = await startRedis(t, { maxmemory: 0 });
  const none = await fleet(t, redis.url, 'memory: { warn: 0.8, critical: 0.95 }').run('cache');
  t.match(byKey(none.findings, 'cache:memory'), { ok: true, message: /no maxmemory set: the memory ratio is not checked/ });
  const admin = await redis.admin();
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
  // Close above used memory (it moves a little with each client) so writes still work.
  await admin.configSet('maxmemory', String(Math.round(used / 0.9)));
  const warn = await fleet(t, redis.url, 'memory: { warn: 0.5, critical: 0.99 }').run('cache');
  t.match(byKey(warn.findings, 'cache:memory'), { ok: false, severity: 'S3', message: /^[\d.]+ (KiB|MiB) of maxmemory [\d.]+ (KiB|MiB) used \(\d+%, policy noeviction\): at or past warn 50%$/ });
  const critical = await fleet(t, redis.url, 'memory: { warn: 0.3, critical: 0.5 }').run('cache');
  t.match(byKey(critical.findings, 'cache:memory'), { ok: false, severity: 'S2', message: /at or past critical 50%/ });
});

t.test('a queue that grows past pending_above fails with its own summary and severity', { skip }, async (t) => {
  const redis = await startRedis(t);
  const admin = await redis.admin();
  const f = fleet(t, redis.url, 'queues: [{ key: celery, pending_above: 100, severity: S3, summary: Generation queue backed up }]');
  await admin.rPush('celery', Array.from({ length: 40 }, (_, i) => `task-${i}`));
  const calm = await f.run('cache');
  t.match(byKey(calm.findings, 'cache:queue:celery'), { ok: true, message: 'queue "celery": 40 tasks', values: { length: 40 } });
  await admin.rPush('celery', Array.from({ length: 80 }, (_, i) => `more-${i}`));
  const busy = await f.run('cache');
  t.match(byKey(busy.findings, 'cache:queue:celery'), { ok: false, severity: 'S3', message: 'queue "celery" holds 120 tasks, more than 100 pending', values: { length: 120 } });
  t.ok(byKey(busy.findings, 'cache').ok, 'Redis itself is fine');
  t.equal(f.config.probes[0]?.summaries?.['cache:queue:celery'], 'Generation queue backed up', "the incident is called by the queue's summary");
});

t.test('a queue that stops draining is "stuck" after stuck_after, and recovers once it shrinks', { skip }, async (t) => {
  const redis = await startRedis(t);
  const admin = await redis.admin();
  const f = fleet(t, redis.url, 'queues: [{ key: celery, stuck_after: 10m, summary: Generation pipeline stuck }]');
  const probe = f.config.probes[0]!;
  queueHistory.forget('cache');
  t.teardown(() => queueHistory.forget('cache'));
  const base = Date.now();
  const runAt = (minutes: number) => runProbe(probe, AbortSignal.timeout(5_000), pino({ enabled: false }), f.transports, () => base + minutes * 60_000);
  const queue = async (minutes: number) => byKey((await runAt(minutes)).findings, 'cache:queue:celery');

  await admin.rPush('celery', ['a', 'b', 'c', 'd', 'e']);
  t.match(await queue(0), { ok: true, message: 'queue "celery": 5 tasks' });
  await admin.lPop('celery');
  t.match(await queue(4), { ok: true, message: 'queue "celery": 4 tasks' }, 'draining: the clock restarts');
  await admin.rPush('celery', ['f']);
  t.match(await queue(9), { ok: true, message: 'queue "celery": 5 tasks, not shrinking for 5m 00s' });
  t.match(await queue(13), { ok: true }, 'nine minutes without shrinking is still within stuck_after');
  const stuck = await queue(14);
  t.match(stuck, { ok: false, severity: 'S2', message: 'queue "celery" holds 5 tasks and has not shrunk for 10m 00s (stuck_after 10m): nothing is taking tasks off it' });
  await admin.lPop('celery');
  t.match(await queue(15), { ok: true, message: 'queue "celery": 4 tasks' }, 'it shrank: no longer stuck');
  await admin.del('celery');
  t.match(await queue(40), { ok: true, message: 'queue "celery": empty' }, 'an empty queue is never stuck');
});

t.test('a key that is not a list: that queue cannot be read, the others still are', { skip }, async (t) => {
  const redis = await startRedis(t);
  const admin = await redis.admin();
  await admin.set('celery', 'not a list');
  const run = await fleet(t, redis.url, 'queues: [{ key: celery, pending_above: 10 }, { key: priority, pending_above: 10 }]').run('cache');
  t.match(byKey(run.findings, 'cache:queue:celery'), { ok: false, message: /^queue "celery" cannot be read: WRONGTYPE/ });
  t.match(byKey(run.findings, 'cache:queue:priority'), { ok: true, message: 'queue "priority": empty' });
});

t.test('a stopped server: refused, said plainly; no queue or memory findings', { skip }, async (t) => {
  const redis = await startRedis(t, { password: PASSWORD });
  await redis.stop();
  const run = await fleet(t, redis.url, 'queues: [{ key: celery, pending_above: 10 }]').run('cache');
  t.same(run.findings.map((x) => x.key), ['cache'], 'only the PING finding: queues unknown, not failing');
  t.match(run.findings[0], { ok: false, message: `connection refused by 127.0.0.1:${redis.port}/0: nothing is listening (Redis down or restarting)` });
  noSecret(t, run);
});

t.test('a SIGSTOPped server: a timeout within the probe timeout, nothing left running', { skip }, async (t) => {
  const redis = await startRedis(t);
  redis.pause();
  t.teardown(() => redis.resume());
  const f = fleet(t, redis.url, 'queues: [{ key: celery, pending_above: 10 }]', '1500ms');
  const started = Date.now();
  const run = await f.run('cache');
  const took = Date.now() - started;
  t.ok(took < 10_000, `bounded by the 1.5 s timeout (took ${took} ms)`);
  t.match(run.findings[0], { key: 'cache', ok: false, message: `no answer from 127.0.0.1:${redis.port}/0 within 1.5s (connecting)` });
  redis.resume();
  const again = await f.run('cache');
  t.ok(byKey(again.findings, 'cache').ok, 'the next run after SIGCONT passes: no stale client');
});

t.test('a wrong or missing password: WRONGPASS / NOAUTH, never the password', { skip }, async (t) => {
  const redis = await startRedis(t, { password: PASSWORD });
  const wrong = await fleet(t, redis.url.replace(encodeURIComponent(PASSWORD), 'wrong-pw'), '').run('cache');
  t.match(wrong.findings[0], { key: 'cache', ok: false, message: `vigil cannot authenticate to 127.0.0.1:${redis.port}/0: WRONGPASS invalid username-password pair or user is disabled.` });
  const missing = await fleet(t, `redis://127.0.0.1:${redis.port}/0`, '').run('cache');
  t.match(missing.findings[0], { key: 'cache', ok: false, message: /vigil cannot authenticate to .*: NOAUTH Authentication required\./ });
  noSecret(t, [wrong, missing]);
});

t.test('a server still loading its dataset: LOADING', { skip }, async (t) => {
  const redis = await startRedis(t);
  const admin = await redis.admin();
  for (let i = 0; i < 4; i++) await admin.mSet(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`key:${i}:${j}`, 'x'.repeat(20)])));
  await admin.sendCommand(['SAVE']);
  admin.destroy();
  await redis.stop();
  await redis.start({ slowLoad: true });
  const run = await fleet(t, redis.url, '').run('cache');
  t.match(run.findings[0], { key: 'cache', ok: false, message: `127.0.0.1:${redis.port}/0 is loading its dataset into memory and answers no commands yet (LOADING Redis is loading the dataset in memory)` });
});

t.test('through an SSH tunnel: Redis is reached via the host, and a dead host reads as the host', { skip }, async (t) => {
  const redis = await startRedis(t);
  const ssh = await startSshServer(t);
  const host = (port: number) =>
    `hosts:\n  cache-vm:\n    environment: production\n    address: 127.0.0.1\n    port: ${port}\n    user: vigil\n    private_key_env: SSH_KEY\n    host_key: "${ssh.hostKeyLine}"\n    compose_dir: /srv\n`;
  const probe = (port: number) =>
    pgFleet(t, `environments: { production: {} }\n${host(port)}probes:\n  - { id: cache, type: redis, url_env: REDIS_URL, via: cache-vm, timeout: 5s, queues: [{ key: celery, pending_above: 5 }] }\n`, {
      REDIS_URL: redis.url,
      SSH_KEY: ssh.clientKey.private,
    });
  const f = probe(ssh.port);
  t.equal(f.config.probes[0]?.environment, 'production', "the environment comes from the tunnel's host");
  t.same(f.config.probes[0]?.implicitDeps, ['host:cache-vm'], 'and depends on that host');
  const run = await f.run('cache');
  t.match(byKey(run.findings, 'cache'), { ok: true, message: new RegExp(`^PONG from 127\\.0\\.0\\.1:${redis.port}/0 via cache-vm in \\d+ms$`) });
  t.match(byKey(run.findings, 'host:cache-vm'), { ok: true });
  t.equal(ssh.stats.forwards, 1, 'the connection went through the SSH server');

  await redis.stop();
  const down = await f.run('cache');
  t.match(byKey(down.findings, 'cache'), { ok: false, message: /127\.0\.0\.1:\d+\/0 via cache-vm/ }, 'Redis down behind a live tunnel is a Redis finding');

  const dead = probe(9);
  const unreachable = await dead.run('cache');
  t.same(unreachable.findings.map((x) => x.key), ['host:cache-vm'], 'an SSH failure is the host finding only');
  t.match(unreachable.findings[0], { ok: false, message: /SSH to cache-vm/ });
});
