// compose_logs error_rate against the in-process SSH host: matching lines over all lines, its own window cut by each line's timestamp.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { composeLogsProbe, type ComposeLogsProbe, logTime } from '../../src/probes/compose-logs.js';
import type { Finding } from '../../src/types.js';
import type { ProbeContext } from '../../src/probes/contract.js';
import { type FakeSshHost, composeTestProbe, hostFor, startSshServer, transportsFor } from '../helpers/ssh-server.js';

const log = pino({ enabled: false });
const NOW = Date.parse('2026-12-01T03:00:00Z');

function probe(raw: Record<string, unknown>): ComposeLogsProbe {
  return composeTestProbe({ id: 'backend-errors', type: 'compose_logs', service: 'backend', pattern: 'ERROR|Traceback', ...raw }) as ComposeLogsProbe;
}

async function runAgainst(t: Test, fake: FakeSshHost, p: ComposeLogsProbe): Promise<Record<string, Finding>> {
  const ctx: ProbeContext = { signal: new AbortController().signal, log, now: () => NOW, transports: transportsFor(t, [hostFor(fake)]) };
  return Object.fromEntries((await composeLogsProbe(p, ctx)).map((f) => [f.key, f]));
}

/** `n` lines `secondsAgo` before NOW, every `every`-th an ERROR. */
function lines(n: number, secondsAgo: number, every: number): string {
  const at = new Date(NOW - secondsAgo * 1000).toISOString().replace('Z', '000000Z');
  return Array.from({ length: n }, (_, i) => `shootify-backend-1  | ${at} ${i % every === 0 ? 'ERROR: upstream timed out' : 'INFO: GET /api/v1/items 200'}\n`).join('');
}

t.test('the fixture\'s 4 matches over its 8 lines: 50% is above 5%; only the rate judges when no threshold is set', async (t) => {
  const fake = await startSshServer(t);
  const f = await runAgainst(t, fake, probe({ error_rate: { above: 0.05, window: '5m' } }));
  t.equal(fake.commands[0], 'cd /home/ubuntu/services/shootify-deploy && docker compose logs --no-color --timestamps --since 300s backend', 'one read');
  t.match(f['backend-errors'], { ok: true, values: { count: 4 }, message: '4 lines matching /ERROR|Traceback/ in backend logs on app-1 over the last 5m' });
  t.match(f['backend-errors:error_rate'], {
    ok: false,
    message: 'error rate 50% above 5%: 4 of 8 lines match /ERROR|Traceback/ (50%) in backend logs on app-1 over the last 5m',
    values: { error_rate: 0.5, lines: 8, matches: 4 },
  });
  const evidence = f['backend-errors:error_rate']?.evidence;
  t.type(evidence, 'string', 'the matching lines are kept as evidence');
  // The secrets of the matching lines (the password URL's line does not match the pattern).
  t.match(evidence, 'Authorization: Bearer ***', 'with the lines that held secrets, masked');
  t.match(evidence, 'password=***&token=*** secret=***');
  for (const secret of ['eyJhbGciOiJIUzI1NiJ9', 'hunter2', 'tok_live_123', 'abc123', 'S3cretPass']) t.notMatch(evidence, secret, `${secret} is masked`);
  const withThreshold = await runAgainst(t, fake, probe({ threshold: 10, error_rate: { above: 0.6, severity: 'S2' } }));
  t.match(withThreshold['backend-errors'], { ok: true, message: /\(threshold 10\)$/ });
  t.match(withThreshold['backend-errors:error_rate'], { ok: true, message: /^4 of 8 lines match/ });
});

t.test('a shorter rate window is cut by timestamps from one longer read', async (t) => {
  const fake = await startSshServer(t);
  // 10 minutes ago: 100 lines, half errors; the last minute: 100 lines, 1 in 50 an error.
  fake.reply = () => ({ stdout: lines(100, 600, 2) + lines(100, 30, 50) });
  const p = probe({ window: '15m', threshold: 1000, error_rate: { above: 0.05, window: '1m', severity: 'S2' } });
  const f = await runAgainst(t, fake, p);
  t.match(fake.commands[0], /--since 900s backend$/, 'the longer window is read');
  t.match(f['backend-errors'], { ok: true, values: { count: 52 } }, 'the threshold counts the whole 15 minutes');
  t.match(f['backend-errors:error_rate'], { ok: true, values: { lines: 100, matches: 2, error_rate: 0.02 }, message: '2 of 100 lines match /ERROR|Traceback/ (2%) in backend logs on app-1 over the last 1m' });

  fake.reply = () => ({ stdout: lines(100, 600, 50) + lines(20, 30, 2) });
  const bad = await runAgainst(t, fake, p);
  t.match(bad['backend-errors:error_rate'], { ok: false, severity: 'S2', values: { lines: 20, matches: 10 } });

  fake.reply = () => ({ stdout: lines(10, 600, 1) });
  const quiet = await runAgainst(t, fake, p);
  t.match(quiet['backend-errors:error_rate'], { ok: true, message: 'no log lines in backend logs on app-1 over the last 1m: no error rate to judge' });
});

t.test('logTime reads the --timestamps prefix', async (t) => {
  t.equal(logTime('shootify-backend-1  | 2026-11-27T21:10:02.114500000Z Traceback'), Date.parse('2026-11-27T21:10:02.114Z'));
  t.equal(logTime('db-1 | 2026-11-27T21:10:02+01:00 LOG: x'), Date.parse('2026-11-27T20:10:02Z'));
  t.equal(logTime('no timestamp here'), null);
});
