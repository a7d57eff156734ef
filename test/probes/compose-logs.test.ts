// The compose_logs probe against an in-process SSH host playing docker: counting, threshold, masked evidence, failures.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { composeLogsProbe, type ComposeLogsProbe, EVIDENCE_LINES, MatchCounter, logText } from '../../src/probes/compose-logs.js';
import type { Finding } from '../../src/types.js';
import type { ProbeContext } from '../../src/probes/contract.js';
import { type FakeSshHost, composeTestProbe, hostFor, startSshServer, transportsFor } from '../helpers/ssh-server.js';

const log = pino({ enabled: false });

function probe(raw: Record<string, unknown> = {}): ComposeLogsProbe {
  return composeTestProbe({ id: 'backend-errors', type: 'compose_logs', service: 'backend', pattern: 'ERROR|Traceback', ...raw }) as ComposeLogsProbe;
}

async function runAgainst(t: Test, fake: FakeSshHost, p = probe(), hostOverrides = {}): Promise<Record<string, Finding>> {
  const ctx: ProbeContext = { signal: new AbortController().signal, log, now: Date.now, transports: transportsFor(t, [hostFor(fake, hostOverrides)]) };
  return Object.fromEntries((await composeLogsProbe(p, ctx)).map((f) => [f.key, f]));
}

t.test('counts matching lines over the window and fails at the threshold, with masked evidence', async (t) => {
  const fake = await startSshServer(t);
  const f = await runAgainst(t, fake, probe({ window: '10m' }));
  t.equal(fake.commands[0], `cd /home/ubuntu/services/shootify-deploy && docker compose logs --no-color --timestamps --since 600s backend`);
  t.match(f['host:app-1'], { ok: true });
  const main = f['backend-errors'];
  t.match(main, { ok: false, values: { count: 4 }, message: '4 lines matching /ERROR|Traceback/ in backend logs on app-1 over the last 10m (threshold 1)' });
  const evidence = main?.evidence ?? '';
  t.equal(evidence.split('\n').length, 4);
  t.match(evidence, 'shootify-backend-1  | 2026-11-27T21:10:02.114000000Z ERROR:    Exception in ASGI application');
  t.match(evidence, 'Authorization: Bearer ***');
  t.match(evidence, 'password=***&token=*** secret=***');
  for (const secret of ['hunter2', 'tok_live_123', 'abc123', 'eyJhbGciOiJIUzI1NiJ9']) t.notMatch(evidence, secret);
});

t.test('below the threshold it passes, and says so', async (t) => {
  const fake = await startSshServer(t);
  const f = await runAgainst(t, fake, probe({ threshold: 5 }));
  t.match(f['backend-errors'], { ok: true, values: { count: 4 }, message: /4 lines matching .* \(threshold 5\)/ });
  const none = await runAgainst(t, fake, probe({ pattern: 'panic' }));
  t.match(none['backend-errors'], { ok: true, values: { count: 0 }, message: 'no lines matching /panic/ in backend logs on app-1 over the last 5m' });
  t.equal(none['backend-errors']?.evidence, undefined);
});

t.test('a service name cannot inject a command, and an unknown service is a clear failure', async (t) => {
  const fake = await startSshServer(t);
  // The config refuses such a name; the probe's quoting must hold even if one got past it.
  const base = probe();
  const injected = { ...base, spec: { ...base.spec, service: 'backend; rm -rf /' } } as ComposeLogsProbe;
  const f = await runAgainst(t, fake, injected);
  t.equal(fake.commands[0], `cd /home/ubuntu/services/shootify-deploy && docker compose logs --no-color --timestamps --since 300s 'backend; rm -rf /'`);
  t.match(f['backend-errors'], { ok: false, message: 'docker compose logs backend; rm -rf / on app-1 failed (exit 1): no such service: backend; rm -rf /' });
});

t.test('a huge log window is counted in full without keeping it', async (t) => {
  const fake = await startSshServer(t);
  const line = 'svc-1  | 2026-11-27T21:10:02.000000000Z ERROR something broke token=abc\n';
  const quiet = 'svc-1  | 2026-11-27T21:10:02.000000000Z INFO fine\n';
  const body = (quiet.repeat(9) + line).repeat(3_000);
  fake.reply = () => ({ stdout: body });
  const f = await runAgainst(t, fake, probe({ pattern: 'ERROR' }));
  t.ok(body.length > 1024 * 1024, 'more than the 1 MiB kept for collected output');
  t.match(f['backend-errors'], { ok: false, values: { count: 3_000 } });
  t.equal(f['backend-errors']?.evidence?.split('\n').length, EVIDENCE_LINES);
  const evidence = f['backend-errors']?.evidence;
  t.match(evidence, /ERROR something broke/, 'the matching lines are the evidence');
  t.notMatch(evidence, 'token=abc');
});

t.test('host down and docker missing', async (t) => {
  const fake = await startSshServer(t);
  await fake.close();
  const down = await runAgainst(t, fake);
  t.same(Object.keys(down), ['host:app-1']);
  t.match(down['host:app-1'], { ok: false, severity: 'S2' });
  const other = await startSshServer(t);
  const missing = await runAgainst(t, other, probe(), { docker: 'nodocker' });
  t.match(missing['backend-errors'], { ok: false, message: /^docker not found on app-1 \(exit 127/ });
});

t.test('MatchCounter and logText', async (t) => {
  t.equal(logText('shootify-backend-1  | 2026-11-27T21:10:02.114000000Z ERROR: x'), 'ERROR: x');
  t.equal(logText('no prefix at all'), 'no prefix at all');
  // The container name and the timestamp are not searched.
  const counter = new MatchCounter(/error|2026/);
  const text = 'error-worker-1  | 2026-11-27T21:10:02Z fine\nerror-worker-1  | 2026-11-27T21:10:03Z an error\nlast line error';
  // Split mid-line and mid-character: the counter must join the pieces.
  const bytes = Buffer.from(`${text} é`);
  counter.push(bytes.subarray(0, 30));
  counter.push(bytes.subarray(30, bytes.length - 1));
  counter.push(bytes.subarray(bytes.length - 1));
  counter.end();
  t.equal(counter.count, 2);
  t.match(counter.evidence(), /an error\nlast line error é$/);
});
