// pg_health on a real cluster as the pg_monitor-only role: wraparound age from the catalog, checksums, a real deadlock rising between runs.
import { pino } from 'pino';
import t from 'tap';
import { runProbe } from '../../src/probes/index.js';
import type { Finding } from '../../src/types.js';
import type { ProbeMemory } from '../../src/probes/contract.js';
import { pgFleet, startPostgres } from '../helpers/pg.js';
import { waitFor } from '../helpers/vigil-process.js';

const server = await startPostgres(t);
const admin = await server.connect();
// A few transactions, so the oldest database's age is well above the lowered thresholds below.
for (let i = 0; i < 5; i++) await admin.query('SELECT txid_current()');
const age = Number((await admin.query<{ age: string }>('SELECT max(age(datfrozenxid))::bigint AS age FROM pg_database')).rows[0]!.age);
const checksums = (await admin.query<{ data_checksums: string }>('SHOW data_checksums')).rows[0]!.data_checksums;

const yaml = (wraparound: string) => `
environments: { production: {} }
databases:
  main: { environment: production, url_env: MAIN_URL }
probes:
  - { id: main-health, type: pg_health, database: main, timeout: 5s, wraparound: ${wraparound} }
`;
const log = pino({ enabled: false });
const byKey = (fs: Finding[]) => Object.fromEntries(fs.map((f) => [f.key, f]));

t.test('a healthy cluster passes with the default thresholds, read as the pg_monitor role', async (t) => {
  const f = byKey((await pgFleet(t, yaml('{}'), { MAIN_URL: server.monitorUrl }).run('main-health')).findings);
  t.same(Object.keys(f).sort(), ['main-health', 'main-health:checksums', 'main-health:conflicts', 'main-health:deadlocks', 'main-health:wraparound']);
  t.ok(Object.values(f).every((x) => x.ok), 'everything passes');
  t.match(f['main-health'], { service: 'db', message: /^127\.0\.0\.1:\d+\/postgres: \d+ databases read, oldest transaction-ID age/ });
  t.match(f['main-health:wraparound'], { values: { xid_age: age }, message: /\(warn 1,000,000,000\)$/ });
  t.match(f['main-health:checksums'], { ok: true, message: checksums === 'on' ? /^no checksum failures on / : /^data checksums are off on / });
  t.match(f['main-health:deadlocks'], { ok: true, message: /a single run cannot see a rise/ }, 'a one-off run (vigil check) cannot judge a rise');
});

t.test('wraparound from the real catalog: past warn is S2, past critical S1 "data loss risk"', async (t) => {
  const warned = byKey((await pgFleet(t, yaml(`{ warn: 1, critical: ${age + 1_000_000} }`), { MAIN_URL: server.monitorUrl }).run('main-health')).findings);
  t.match(warned['main-health:wraparound'], { ok: false, severity: 'S2', message: /^wraparound approaching: transaction-ID age of \S+ is [\d,]+, at or past warn 1; VACUUM is not keeping up/ });
  t.match(warned['main-health:wraparound']?.evidence, /^database · age\(datfrozenxid\)\n/);
  t.match(warned['main-health:wraparound']?.evidence, 'template0', 'template0 takes no connections but is read too');
  const critical = byKey((await pgFleet(t, yaml('{ warn: 1, critical: 2 }'), { MAIN_URL: server.monitorUrl }).run('main-health')).findings);
  t.match(critical['main-health:wraparound'], { ok: false, severity: 'S1', message: /^data loss risk: transaction-ID age of \S+ is [\d,]+, at or past critical 2;/ });
  t.match(critical['main-health'], { ok: true }, 'the reading itself worked');
});

t.test('a real deadlock: the next run sees the counter rise (S3), the one after passes again', async (t) => {
  const f = pgFleet(t, yaml('{}'), { MAIN_URL: server.monitorUrl });
  const probe = f.config.probes[0]!;
  const memory: ProbeMemory = new Map();
  const run = async () => byKey((await runProbe(probe, AbortSignal.timeout(10_000), log, f.transports, Date.now, { memory })).findings);
  t.match((await run())['main-health:deadlocks'], { ok: true, message: /first run: counting from here/ });

  await admin.query('CREATE TABLE locks (id int PRIMARY KEY, v int); INSERT INTO locks VALUES (1, 0), (2, 0)');
  const [a, b] = [await server.connect(), await server.connect()];
  await a.query('BEGIN');
  await b.query('BEGIN');
  await a.query('UPDATE locks SET v = 1 WHERE id = 1');
  await b.query('UPDATE locks SET v = 1 WHERE id = 2');
  const crossed = await Promise.allSettled([a.query('UPDATE locks SET v = 2 WHERE id = 2'), b.query('UPDATE locks SET v = 2 WHERE id = 1')]);
  t.ok(crossed.some((r) => r.status === 'rejected' && /deadlock detected/.test(String(r.reason))), 'PostgreSQL broke a deadlock');
  await a.query('ROLLBACK');
  await b.query('ROLLBACK');

  // Statistics reach pg_stat_database within a second or so of the transaction's end.
  const risen = await waitFor(async () => {
    const d = (await run())['main-health:deadlocks'];
    return d && !d.ok ? d : null;
  }, 15_000, () => 'the deadlock never showed in pg_stat_database');
  t.match(risen, { severity: 'S3', message: '1 new deadlocks since the last run: postgres +1', values: { deadlocks: 1 } });
  t.match(risen.evidence, /^database · new deadlocks · total\npostgres · 1 · 1$/);
  t.match((await run())['main-health:deadlocks'], { ok: true, message: '0 new deadlocks since the last run' }, 'no new deadlock: passes again');
});

t.test('an unreachable database is the probe failing, not a throw', async (t) => {
  const f = byKey((await pgFleet(t, yaml('{}'), { MAIN_URL: 'postgres://vigil:x@127.0.0.1:1/postgres' }).run('main-health')).findings);
  t.match(f['main-health'], { ok: false, message: /refused/ });
});
