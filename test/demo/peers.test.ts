// The demo's in-process Redis and backup bucket answer the real redis and backup probes as the real servers would, and show the timeline's faults.
import t from 'tap';
import { BACKUP_BUCKET, BACKUP_PREFIX, BACKUP_SCHEDULE } from '../../src/demo/fleet.js';
import { startDemoRedis } from '../../src/demo/redis.js';
import { startDemoBucket } from '../../src/demo/s3.js';
import { queueHistory } from '../../src/probes/redis.js';
import { pgFleet } from '../helpers/pg.js';
import { matchExactly } from '../helpers/match.js';

t.test('the demo Redis: AUTH, PING, INFO and LLEN for the redis probe; a stalled queue reads as stuck', async (t) => {
  let celery = 0;
  const redis = await startDemoRedis({ password: 'demo-pw', lists: () => new Map([['celery', celery]]) });
  t.teardown(() => redis.close());
  const url = `redis://:demo-pw@127.0.0.1:${redis.port}/0`;
  const yaml = (u: string) => `environments: { production: {} }\nprobes:\n  - { id: demo-redis, type: redis, environment: production, url_env: U, timeout: 5s, queues: [{ key: celery, stuck_after: 1ms, summary: Generation pipeline stuck }] }\n`;
  queueHistory.forget('demo-redis');
  t.teardown(() => queueHistory.forget('demo-redis'));
  const f = pgFleet(t, yaml(url), { U: url });
  const first = await f.run('demo-redis');
  matchExactly(t, first.findings, [
    { key: 'demo-redis', ok: true, message: /^PONG from 127\.0\.0\.1:\d+\/0 in \d+ms$/, evidence: /^redis 7\.0\.15 · role master/ },
    { key: 'demo-redis:memory', ok: true, message: /^3 MiB of maxmemory 256 MiB used \(1%, policy noeviction\)$/ },
    { key: 'demo-redis:queue:celery', ok: true, message: 'queue "celery": empty' },
  ]);
  celery = 20;
  await f.run('demo-redis');
  await new Promise((r) => setTimeout(r, 5));
  const stuck = await f.run('demo-redis');
  t.match(stuck.findings.find((x) => x.key === 'demo-redis:queue:celery'), { ok: false, message: /^queue "celery" holds 20 tasks and has not shrunk for \d+s \(stuck_after 1ms\)/ });
  const wrong = await pgFleet(t, yaml(url), { U: url.replace('demo-pw', 'nope') }).run('demo-redis');
  t.match(wrong.findings[0], { ok: false, message: /vigil cannot authenticate to .*: WRONGPASS/ });
});

t.test('the demo bucket: snapshots on the backups\' schedule pass; with the last two missing the backup is late', async (t) => {
  let late = false;
  const bucket = await startDemoBucket({ bucket: BACKUP_BUCKET, prefix: BACKUP_PREFIX, schedule: BACKUP_SCHEDULE, late: () => late });
  t.teardown(() => bucket.close());
  const f = pgFleet(
    t,
    `environments: { production: {} }\nprobes:\n  - { id: b, type: backup, environment: production, endpoint_env: E, access_key_id_env: K, secret_access_key_env: S, bucket: ${BACKUP_BUCKET}, prefix: ${BACKUP_PREFIX}, schedule: "${BACKUP_SCHEDULE}", grace: 30m, timeout: 5s }\n`,
    { E: bucket.endpoint, K: 'DEMOKEY', S: 'demo-secret' },
  );
  const good = await f.run('b');
  t.match(good.findings[0], { ok: true, message: /^Newest backup snapshots\/backend\/production\/pgsql_app_db_\d{8}-\d{6}\.sql\.zst is .* old, \d+(\.\d)? MiB, with its \.md5$/ });
  late = true;
  const missing = await f.run('b');
  t.match(missing.findings[0], { ok: false, message: /^Newest backup snapshots\/backend\/production\/pgsql_app_db_\d{8}-\d{6}\.sql\.zst is \d+h \d\dm old, \d+(\.\d)? MiB: the backup due at .* is missing$/ });
  const other = await pgFleet(
    t,
    `environments: { production: {} }\nprobes:\n  - { id: b, type: backup, environment: production, endpoint_env: E, access_key_id_env: K, secret_access_key_env: S, bucket: elsewhere, schedule: "0 0 * * *", timeout: 5s }\n`,
    { E: bucket.endpoint, K: 'DEMOKEY', S: 'demo-secret' },
  ).run('b');
  t.match(other.findings[0], { ok: false, message: /^bucket "elsewhere" does not exist/ });
});
