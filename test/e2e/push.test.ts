// End to end: a push probe in the real `vigil run` — a late heartbeat opens, the curl line of `vigil push-url` resolves it,
// wrong tokens and unknown ids are refused and change nothing, status=fail fails at once, and a restart remembers the last ping.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tmpDir } from '../helpers/tmp.js';
import { VIGIL_BIN, VigilProcess, freePort, type LogLine } from '../helpers/vigil-process.js';
import { api } from './alerts-fleet.js';

const TOKEN = 'push-t0ken/with+odd=chars';

function config(port: number, dbPath: string): string {
  return `
server:
  listen: 127.0.0.1:${port}
  public_url: http://127.0.0.1:${port}/
store:
  path: ${JSON.stringify(dbPath)}
defaults:
  interval: 300ms
  timeout: 250ms
environments:
  production: {}
probes:
  - id: nightly-backup
    type: push
    environment: production
    service: backup
    summary: Nightly backup missing
    period: 2s
    grace: 1s
    token_env: PUSH_TOKEN
`;
}

const failedRun = (l: LogLine, pattern: RegExp) =>
  l.msg === 'probe failed' && l.probe === 'nightly-backup' && Array.isArray(l.failed) && pattern.test(String((l.failed[0] as { message?: unknown })?.message));

t.test('a heartbeat probe through vigil run, push-url and curl', async (t) => {
  const dir = tmpDir(t, 'vigil-push-');
  const port = await freePort();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, config(port, join(dir, 'vigil.db')));
  const env = { PUSH_TOKEN: TOKEN };
  let vigil = new VigilProcess(['run', '--config', file], env);
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.ready(port);

  // Never pinged: late once period + grace have passed since vigil began expecting it; opens at once (threshold 1).
  const opened = await vigil.waitForLine((l) => l.event === 'opened' && l.probe === 'nightly-backup');
  t.equal(opened.msg, '[INCIDENT] S2 - Nightly backup missing on production. Investigating.');
  const id = opened.incident_id as number;
  t.match((await api(port, `/api/incidents/${id}`)).body, { state: 'open', severity: 'S2', root_probe: 'nightly-backup' });

  const push = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', ...init });
  const wrong = await push('/api/push/nightly-backup?token=not-the-token');
  t.equal(wrong.status, 401, 'a wrong token is refused');
  t.match(await wrong.json(), { error: { code: 'unauthorized', message: 'invalid token' } });
  t.equal((await push('/api/push/nightly-backup')).status, 401, 'no token at all is refused');
  t.equal((await push('/api/push/nightly-backup', { headers: { authorization: 'Bearer nope' } })).status, 401, 'a wrong bearer token too');
  const unknown = await push(`/api/push/no-such-job?token=${encodeURIComponent(TOKEN)}`);
  t.equal(unknown.status, 404, 'an unknown id is 404');
  t.match(await unknown.json(), { error: { code: 'not_found', message: 'no push probe "no-such-job"' } });
  // Runs after the refusals still fail with "no heartbeat": nothing was recorded.
  const refusedAt = vigil.lines.length;
  await vigil.waitForLine((l) => vigil.lines.indexOf(l) > refusedAt && failedRun(l, /^heartbeat late: no heartbeat since vigil began expecting one/));
  t.equal((await api(port, '/api/incidents?state=open')).body.incidents.length, 1, 'still open after the refused pings');

  const printed = spawnSync(process.execPath, [VIGIL_BIN, 'push-url', 'nightly-backup', '--config', file], { env: { ...process.env, ...env }, encoding: 'utf8' });
  t.equal(printed.status, 0, printed.stderr);
  const line = printed.stdout.trim();
  t.equal(line, `curl -fsS -X POST 'http://127.0.0.1:${port}/api/push/nightly-backup?token=push-t0ken%2Fwith%2Bodd%3Dchars'`, 'the exact curl line, token URL-encoded');
  const answer = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
  t.match(JSON.parse(answer), { probe: 'nightly-backup', status: 'ok' }, 'the printed line works as it is');
  const resolved = await vigil.waitForLine((l) => l.event === 'resolved' && l.incident_id === id);
  t.match(resolved.msg, /^\[RESOLVED\] S2 - Nightly backup missing on production\. Resolved after/);

  // status=fail fails at once, with the job's message cleaned of control characters and secrets.
  const failUrl = `${line.slice(line.indexOf("'") + 1, -1)}&status=fail&msg=${encodeURIComponent('pg_dump failed:\ndisk full password=hunter2')}`;
  t.equal((await push(failUrl.replace(`http://127.0.0.1:${port}`, ''))).status, 200);
  const reopened = await vigil.waitForLine((l) => (l.event === 'reopened' || l.event === 'opened') && l.probe === 'nightly-backup' && vigil.lines.indexOf(l) > vigil.lines.indexOf(resolved));
  t.equal(reopened.event, 'reopened', 'within the reopen window the same incident reopens');
  const failing = await vigil.waitForLine((l) => failedRun(l, /reported failure/));
  t.match((failing.failed as Array<{ message: string }>)[0]?.message, /^the job reported failure \d+s ago: pg_dump failed: disk full password=\*\*\*$/);

  // A restart remembers the failed ping: the incident stays open with the job's own words.
  vigil.kill('SIGKILL');
  await vigil.exited;
  vigil = new VigilProcess(['run', '--config', file], env);
  await vigil.ready(port);
  await vigil.waitForLine((l) => failedRun(l, /^the job reported failure .*pg_dump failed/));
  t.equal((await api(port, '/api/incidents?state=open')).body.incidents.length, 1, 'still open after the restart');

  // The bearer header is accepted as well; an ok ping resolves.
  const bearer = await push('/api/push/nightly-backup', { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(bearer.status, 200);
  await vigil.waitForLine((l) => l.event === 'resolved' && l.incident_id === id);
  t.notMatch(vigil.stdout + vigil.stderr, TOKEN, 'the token never reaches the log');
  t.notMatch(vigil.stdout, 'hunter2', 'nor a secret the job sent');
  vigil.kill('SIGTERM');
  t.match(await vigil.exited, { code: 0 });
});

t.test('push-url refuses what is not a push probe', async (t) => {
  const dir = tmpDir(t, 'vigil-push-url-');
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, `${config(9477, ':memory:')}  - { id: api, type: http, environment: production, url: "http://127.0.0.1:1/" }\n`);
  const run = (id: string) => spawnSync(process.execPath, [VIGIL_BIN, 'push-url', id, '--config', file], { env: { ...process.env, PUSH_TOKEN: TOKEN }, encoding: 'utf8' });
  t.match(run('api'), { status: 1, stdout: '', stderr: 'vigil: probe "api" is not a push probe (type http)\n' });
  t.match(run('nope'), { status: 1, stderr: `vigil: no probe "nope" in ${file}\n` });
});
