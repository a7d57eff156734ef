// The backup probe against s3rver holding objects named like Sartiq's snapshots: a good backup passes; late, empty, shrunken and sidecar-less ones each say so.
import t, { type Test } from 'tap';
import { judgeBackups } from '../../src/probes/backup.js';
import { pgFleet } from '../helpers/pg.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3, type LocalS3 } from '../helpers/s3.js';

const BUCKET = 'sartiq-snapshots';
/** An object made a minute ago reads 1m 00s old, or a second or two more on a slow machine. */
const A_MINUTE_OLD = '1m 0\\ds old';
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('1m 00s old', A_MINUTE_OLD)}$`);
const MINUTE = 60_000;

const s3 = await startS3(t);
await s3.createBucket(BUCKET);

/** `pgsql_app_db_YYYYMMDD-HHMMSS.sql.zst` as the db-backup sidecar names them, for a backup made `ageMs` ago. */
function snapshotKey(prefix: string, ageMs: number): string {
  const stamp = new Date(Date.now() - ageMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${prefix}pgsql_app_db_${stamp}.sql.zst`;
}

/** Puts a backup and (unless told not to) its .md5 sidecar; returns the backup's key. */
async function backup(store: LocalS3, prefix: string, ageMs: number, size: number, md5 = true): Promise<string> {
  const key = snapshotKey(prefix, ageMs);
  await store.put(BUCKET, key, size, ageMs);
  if (md5) await store.put(BUCKET, `${key}.md5`, 32, ageMs);
  return key;
}

/** Backups every 10 minutes, 5 minutes of grace: the last due one is 5 to 15 minutes old, whenever the test runs. */
function probe(t: Test, prefix: string, extra = '', env: Record<string, string> = {}) {
  return pgFleet(
    t,
    `environments: { production: {} }\nprobes:\n  - { id: backend-backups, type: backup, environment: production, endpoint_env: S3_ENDPOINT, access_key_id_env: S3_KEY_ID, secret_access_key_env: S3_SECRET, bucket: ${BUCKET}, prefix: "${prefix}", schedule: "*/10 * * * *", grace: 5m, timeout: 5s${extra} }\n`,
    { S3_ENDPOINT: s3.endpoint, S3_KEY_ID: S3_ACCESS_KEY_ID, S3_SECRET: S3_SECRET_ACCESS_KEY, ...env },
  );
}

async function finding(t: Test, prefix: string, extra = '', env: Record<string, string> = {}) {
  const run = await probe(t, prefix, extra, env).run('backend-backups');
  t.equal(run.findings.length, 1, 'one finding about the backups');
  return run.findings[0]!;
}

t.test('a good backup passes: named, with its age, size and sidecar', async (t) => {
  const prefix = 'snapshots/backend/production/';
  await backup(s3, prefix, 11 * MINUTE, 1000);
  const key = await backup(s3, prefix, 1 * MINUTE, 900);
  const f = await finding(t, prefix);
  t.match(f, { key: 'backend-backups', ok: true, message: exactly(`Newest backup ${key} is 1m 00s old, 900 B, with its .md5`) });
  t.match(f.evidence, /^2 backups under s3:\/\/sartiq-snapshots\/snapshots\/backend\/production\/ at 127\.0\.0\.1:\d+; newest first:\n/);
  t.match(f.values, { size_bytes: 900 });
  t.ok(Math.abs((f.values?.age_seconds ?? 0) - 60) < 30, 'its age in seconds');
});

t.test('a late backup: the one due is missing', async (t) => {
  const prefix = 'snapshots/backend/staging/';
  await backup(s3, prefix, 30 * MINUTE, 1000);
  const key = await backup(s3, prefix, 20 * MINUTE, 1000);
  const f = await finding(t, prefix);
  t.match(f, { ok: false, message: new RegExp(`^Newest backup ${key.replace(/[.*]/g, '\\$&')} is 20m 0\\ds old, 1000 B: the backup due at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d0 UTC \\(schedule "\\*/10 \\* \\* \\* \\*", grace 5m\\) is missing$`) });
});

t.test('an empty backup', async (t) => {
  const prefix = 'snapshots/backend/dev/';
  await backup(s3, prefix, 11 * MINUTE, 1000);
  const key = await backup(s3, prefix, 1 * MINUTE, 0);
  const f = await finding(t, prefix);
  t.match(f, { ok: false, message: exactly(`Newest backup ${key} is 1m 00s old, 0 B: it is empty`) });
});

t.test('a backup that shrank below min_size_ratio of the one before', async (t) => {
  const prefix = 'snapshots/compute-server/production/';
  const before = await backup(s3, prefix, 11 * MINUTE, 4000);
  const key = await backup(s3, prefix, 1 * MINUTE, 1000);
  const f = await finding(t, prefix);
  t.match(f, { ok: false, message: exactly(`Newest backup ${key} is 1m 00s old, 1000 B: it is 25% of the one before (${before}, 3.9 KiB), below min_size_ratio 0.5`) });
  const lenient = await finding(t, prefix, ', min_size_ratio: 0.2');
  t.match(lenient, { ok: true }, 'a lower ratio accepts it');
});

t.test('a backup without its .md5 sidecar (sidecars are never taken for the newest backup)', async (t) => {
  const prefix = 'snapshots/compute-server/staging/';
  await backup(s3, prefix, 11 * MINUTE, 1000);
  const key = await backup(s3, prefix, 1 * MINUTE, 1000, false);
  const f = await finding(t, prefix);
  t.match(f, { ok: false, message: exactly(`Newest backup ${key} is 1m 00s old, 1000 B: it has no .md5 sidecar (${key}.md5)`) });
  t.match(f.evidence, `${key}  (no .md5)`);
  t.match(await finding(t, prefix, ', md5_sidecar: false'), { ok: true }, 'md5_sidecar: false does not ask for one');
});

t.test('nothing under the prefix, an unknown bucket, wrong credentials, nobody listening', async (t) => {
  t.match(await finding(t, 'snapshots/nothing/'), { ok: false, message: /^no backups under s3:\/\/sartiq-snapshots\/snapshots\/nothing\/ at 127\.0\.0\.1:\d+: one was due at / });
  const missing = await probe(t, 'x/').run('backend-backups');
  t.match(missing.findings[0], { ok: false });
  const wrongBucket = await pgFleet(
    t,
    `environments: { production: {} }\nprobes:\n  - { id: b, type: backup, environment: production, endpoint_env: E, access_key_id_env: K, secret_access_key_env: S, bucket: no-such-bucket, schedule: "0 0 * * *", timeout: 5s }\n`,
    { E: s3.endpoint, K: S3_ACCESS_KEY_ID, S: S3_SECRET_ACCESS_KEY },
  ).run('b');
  t.match(wrongBucket.findings[0], { ok: false, message: /^bucket "no-such-bucket" does not exist at s3:\/\/no-such-bucket\/ at 127\.0\.0\.1:\d+$/ });
  const badKey = await finding(t, 'snapshots/backend/production/', '', { S3_KEY_ID: 'AKIAWRONGWRONG', S3_SECRET: 'wrong-secret-value' });
  t.match(badKey, { ok: false, message: /refused vigil's credentials \(InvalidAccessKeyId\)/ });
  t.notMatch(badKey.message, /wrong-secret-value/);
  const closed = await finding(t, 'snapshots/', '', { S3_ENDPOINT: 'http://127.0.0.1:9' });
  t.match(closed, { ok: false, message: 'connection refused by s3://sartiq-snapshots/snapshots/ at 127.0.0.1:9' });
});

t.test('judgeBackups: every problem of the newest backup is named, the due time follows the cron in UTC', async (t) => {
  const now = Date.UTC(2026, 11, 1, 9, 40);
  const rules = { schedule: '0 0,6,9,12,15,18,21 * * *', graceMs: 30 * MINUTE, minSizeRatio: 0.5, md5Sidecar: true };
  const at = (h: number, m = 3) => Date.UTC(2026, 11, 1, h, m);
  const good = judgeBackups([{ key: 'a', size: 10, lastModified: at(6) }, { key: 'a.md5', size: 32, lastModified: at(6) }, { key: 'b', size: 12, lastModified: at(9) }, { key: 'b.md5', size: 32, lastModified: at(9) }], rules, 'here', now);
  t.match(good, { ok: true, message: 'Newest backup b is 37m 00s old, 12 B, with its .md5' });
  const all = judgeBackups([{ key: 'a', size: 10, lastModified: at(3) }, { key: 'b', size: 0, lastModified: at(6) }], rules, 'here', now);
  t.equal(all.message, 'Newest backup b is 3h 37m old, 0 B: the backup due at 2026-12-01 09:00 UTC (schedule "0 0,6,9,12,15,18,21 * * *", grace 30m) is missing; it is empty; it has no .md5 sidecar (b.md5)');
  const withinGrace = judgeBackups([{ key: 'a', size: 10, lastModified: at(6) }, { key: 'a.md5', size: 1, lastModified: at(6) }], rules, 'here', Date.UTC(2026, 11, 1, 9, 20));
  t.equal(withinGrace.ok, true, "the 09:00 backup is not late before 09:30");
});
