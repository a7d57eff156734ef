// pg_query on a real server as the monitoring role: a queue depth against thresholds, and every bad result as a clear finding.
import t from 'tap';
import { pgFleet, startPostgres } from '../helpers/pg.js';
import { matchExactly } from '../helpers/match.js';

const server = await startPostgres(t);
const admin = await server.connect();
await admin.query('CREATE TABLE jobs (id serial PRIMARY KEY, secret text)');
// vigil reads an application table only when granted, table by table.
await admin.query('GRANT SELECT ON jobs TO vigil');
await admin.query('CREATE TABLE private_data (x int)');

function probe(id: string, body: string): string {
  return `  - { id: ${id}, type: pg_query, database: main, timeout: 1s, ${body} }\n`;
}
const yaml = `
environments: { production: {} }
databases:
  main: { environment: production, url_env: MAIN_URL }
probes:
${probe('queue', 'sql: "SELECT count(*) FROM jobs", warn: 5, critical: 10')}${probe('free', 'sql: "SELECT 10 - count(*) AS free_slots FROM jobs", warn: 5, critical: 2, direction: below')}${probe('only-critical', 'sql: "SELECT count(*) FROM jobs", critical: 3, severity: S2')}${probe('no-row', 'sql: "SELECT 1 WHERE false", warn: 1')}${probe('two-cols', 'sql: "SELECT 1 AS a, 2 AS b", warn: 1')}${probe('many-rows', 'sql: "SELECT generate_series(1, 3)", warn: 1')}${probe('text', `sql: "SELECT 'hunter2-secret' AS depth", warn: 1`)}${probe('null-value', 'sql: "SELECT NULL::int AS depth", warn: 1')}${probe('missing', 'sql: "SELECT count(*) FROM nope", warn: 1')}${probe('denied', 'sql: "SELECT count(*) FROM private_data", warn: 1')}${probe('writes', 'sql: "INSERT INTO jobs (secret) VALUES (1) RETURNING 1", warn: 1')}${probe('slow', 'sql: "SELECT count(*) FROM pg_sleep(5)", warn: 1')}${probe('compute-queue', 'service: compute, sql: "SELECT count(*) FROM jobs", warn: 1')}`;

const f = pgFleet(t, yaml, { MAIN_URL: server.monitorUrl });
const main = async (id: string) => (await f.run(id)).findings[0]!;

t.test('a queue depth: ok, past warn (S3), past critical (S2); and the other direction', async (t) => {
  await admin.query("INSERT INTO jobs (secret) SELECT 'x' FROM generate_series(1, 3)");
  t.match(await main('queue'), { key: 'queue', ok: true, service: 'db', message: 'count = 3 (warn ≥ 5, critical ≥ 10)', values: { value: 3 } });
  t.match(await main('free'), { ok: true, values: { value: 7 } });
  await admin.query("INSERT INTO jobs (secret) SELECT 'x' FROM generate_series(1, 3)");
  t.match(await main('queue'), { ok: false, severity: 'S3', message: 'count = 6: past warn (≥ 5)', values: { value: 6 } });
  t.match(await main('free'), { ok: false, severity: 'S3', message: 'free_slots = 4: past warn (≤ 5)' });
  await admin.query("INSERT INTO jobs (secret) SELECT 'x' FROM generate_series(1, 5)");
  t.match(await main('queue'), { ok: false, severity: 'S2', message: 'count = 11: past critical (≥ 10)' });
  t.match(await main('free'), { ok: false, severity: 'S2', message: 'free_slots = -1: past critical (≤ 2)' });
  t.match(await main('only-critical'), { ok: false, severity: 'S2' }, 'with only a critical threshold, the probe severity');
});

t.test("a probe's own service: files its findings under it, not under the database's", async (t) => {
  const finding = await main('compute-queue');
  t.match(finding, { key: 'compute-queue', ok: false, service: 'compute' });
  t.equal((await main('queue')).service, 'db', 'without one, the database service');
});

t.test('results that are not one number are findings, never crashes, and never show the value', async (t) => {
  const expected: Record<string, string> = {
    'no-row': 'the query of no-row returned no row; expected one row with one number',
    'two-cols': 'the query of two-cols returned 2 columns (a, b); expected one row with one number',
    'many-rows': 'the query of many-rows returned 3 rows; expected one row with one number',
    text: 'the query of text returned text in "depth", not a number; expected one row with one number',
    'null-value': 'the query of null-value returned NULL in "depth"; expected one row with one number',
  };
  for (const [id, message] of Object.entries(expected)) {
    const run = await f.run(id);
    t.equal(run.outcome, 'failure', `${id}: a failure, not an error`);
    matchExactly(t, run.findings, [{ key: id, ok: false, message }], id);
  }
  t.notOk(JSON.stringify(await main('text')).includes('hunter2'), 'the value stays in the database');
});

t.test('SQL that fails says why, and the role cannot write or read what it was not granted', async (t) => {
  t.match(await main('missing'), { ok: false, message: 'the query of missing failed: relation "nope" does not exist (SQLSTATE 42P01)' });
  t.match(await main('denied'), { ok: false, message: 'the query of denied failed: permission denied for table private_data (SQLSTATE 42501)' });
  t.match(await main('writes'), { ok: false, message: /cannot execute INSERT in a read-only transaction \(SQLSTATE 25006\)/ });
  t.equal(Number((await admin.query('SELECT count(*) AS n FROM jobs')).rows[0].n), 11, 'nothing was written');
});

t.test('a query slower than the timeout is cut off on the server and reported, no hang', async (t) => {
  const started = Date.now();
  const finding = await main('slow');
  t.ok(Date.now() - started < 5_000, 'gave up near its 1s timeout');
  t.match(finding, { ok: false, message: /^the query of slow failed: (query cancelled by statement_timeout after 1s|query did not finish within 1s)$/ });
  const after = await main('queue');
  t.match(after, { values: { value: 11 } }, 'the pool still works afterwards');
});
