import t from 'tap';
import { type CheckResult, exitCodeFor, formatReport, reportJson, worstOf } from '../../src/commands/check-report.js';

const base = { type: 'http', durationMs: 12, skipped: false, evidence: null };
const results: CheckResult[] = [
  { ...base, probe: 'web', environment: 'production', service: 'webapp', key: 'web', ok: true, severity: null, message: 'HTTP 200' },
  { ...base, probe: 'api', environment: 'production', service: 'backend', key: 'api', ok: false, severity: 'S1', message: 'connection refused', evidence: 'line one\nline two' },
  { ...base, probe: 'api', environment: 'production', service: 'backend', key: 'api:latency', ok: false, severity: 'S4', message: 'slow' },
  { ...base, probe: 'stg', environment: 'staging', service: 'backend', key: 'stg', ok: false, severity: 'S3', message: 'HTTP 500' },
  { ...base, probe: 'ps', type: 'compose_ps', environment: 'staging', service: 'db', key: 'ps', ok: true, severity: null, message: 'n/a', skipped: true },
];

t.test('exit code follows the worst failure', async (t) => {
  t.equal(exitCodeFor(null), 0);
  t.equal(exitCodeFor('S4'), 1);
  t.equal(exitCodeFor('S3'), 1);
  t.equal(exitCodeFor('S2'), 2);
  t.equal(exitCodeFor('S1'), 2);
  t.equal(worstOf(results), 'S1');
  t.equal(worstOf(results.filter((r) => r.severity !== 'S1')), 'S3');
  t.equal(worstOf([results[0]!, results[4]!]), null, 'skipped and passing results are not failures');
});

t.test('the report groups by environment and service, worst last', async (t) => {
  const text = formatReport({ config: 'x.yaml', checkedAt: '2026-01-01T00:00:00Z', results, worst: 'S1', exitCode: 2 }, { color: false });
  const lines = text.split('\n');
  t.match(lines[1], '4 checks: 1 passed, 3 failed');
  t.ok(text.indexOf('\nstaging') < text.indexOf('\nproduction'), 'production holds the S1, so it comes last');
  const production = text.slice(text.indexOf('\nproduction'));
  t.ok(production.indexOf('  webapp') < production.indexOf('  backend'), 'a passing service before a failing one');
  t.ok(text.indexOf('S4 api:latency') < text.indexOf('S1 api '), 'S4 before S1 within a service');
  t.match(text, /line one\n\s+line two/, 'evidence is shown under the failure');
  t.match(text, /- ps {2}skipped: n\/a/);
  t.equal(lines.filter(Boolean).at(-1), 'Worst: S1 api on production/backend: connection refused');
  t.notMatch(text, /\u001b\[/, 'no colour codes when colour is off');
  const colored = formatReport({ config: 'x.yaml', checkedAt: 'now', results, worst: 'S1', exitCode: 2 }, { color: true });
  t.match(colored, /\u001b\[31;1mS1\u001b\[0m/);
});

t.test('all passing says so', async (t) => {
  const text = formatReport({ config: 'x.yaml', checkedAt: 'now', results: [results[0]!], worst: null, exitCode: 0 }, { color: false });
  t.match(text, /All checks passed\.\n$/);
});

t.test('json report uses snake_case and keeps every result', async (t) => {
  const json = reportJson({ config: 'x.yaml', checkedAt: 'now', results, worst: 'S1', exitCode: 2 }) as { results: Array<Record<string, unknown>>; exit_code: number };
  t.equal(json.exit_code, 2);
  t.equal(json.results.length, results.length);
  t.match(json.results[1], { probe: 'api', severity: 'S1', duration_ms: 12, evidence: 'line one\nline two' });
});

t.test('failures of one cause are shown once, with the probes they take down, and every row names its probe', async (t) => {
  const down = { ...base, environment: 'production', ok: false, severity: 'S2' as const, message: 'connect ETIMEDOUT 10.0.0.2:22', cause: 'host:prod-backend' };
  const grouped: CheckResult[] = [
    { ...down, probe: 'backend-ps', type: 'compose_ps', service: 'prod-backend', key: 'host:prod-backend' },
    { ...down, probe: 'backend-logs', type: 'compose_logs', service: 'backend', key: 'host:prod-backend' },
    { ...down, probe: 'db-ready', type: 'pg_ready', service: 'db', key: 'host:prod-backend', severity: 'S1' },
    { ...base, probe: 'db-conns', type: 'pg_connections', environment: 'production', service: 'db', key: 'db-conns', ok: false, severity: 'S3', message: 'refused', cause: 'database:prod-db' },
    { ...base, probe: 'api', environment: 'production', service: 'backend', key: 'api', ok: false, severity: 'S1', message: 'connection refused' },
  ];
  const text = formatReport({ config: 'x.yaml', checkedAt: 'now', results: grouped, worst: 'S1', exitCode: 2 }, { color: false });
  t.match(text.split('\n')[1], '5 checks: 0 passed, 5 failed (3 causes)');
  t.equal(text.split('host:prod-backend').length - 1, 2, 'the host is one line (and the worst line), not one per probe');
  t.match(text, /S1 host:prod-backend {2}connect ETIMEDOUT 10\.0\.0\.2:22\n\s+takes down 3 probes: backend-ps, backend-logs, db-ready\n/);
  t.match(text, /S3 db-conns {2}refused/, 'a database failure only one probe saw stays its own row, under its probe id');
  t.match(text, /S1 api {2}connection refused/);
  t.notMatch(text, /S2 backend-ps/, 'a grouped probe has no row of its own');
  const single = formatReport({ config: 'x.yaml', checkedAt: 'now', results: [{ ...down, probe: 'db-ready', service: 'db', key: 'host:prod-backend' }], worst: 'S2', exitCode: 2 }, { color: false });
  t.match(single, /S2 db-ready \(host:prod-backend\) {2}connect ETIMEDOUT/, 'alone, the row names its probe id and the host');
  t.notMatch(single, /causes?\)/);
});
