// End to end: `vigil ack`, `resolve`, `note` write through a real `vigil run` over HTTP; `vigil review` reads the store.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VIGIL_BIN, VigilProcess, freePort } from '../helpers/vigil-process.js';

const TOKEN = 'e2e-token-5f1c9a7d';

/** Runs the real CLI to completion. */
function vigil(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('ack, note, resolve through the daemon; review from the store', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cmds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:${port}, public_url: http://127.0.0.1:${port}, api_token_env: VIGIL_API_TOKEN }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 500ms, timeout: 400ms, failure_threshold: 1, success_threshold: 2 }
environments: { production: {} }
probes:
  - { id: backend-health, type: http, environment: production, service: backend, severity: S1, summary: Backend API down, url: "http://127.0.0.1:9/health" }
`,
  );
  const daemon = new VigilProcess(['run', '--config', file], { VIGIL_API_TOKEN: TOKEN });
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await daemon.exited;
  });
  await daemon.waitForLine((l) => l.event === 'opened' && l.incident_id === 1);
  const withToken = { VIGIL_API_TOKEN: TOKEN };
  const cfg = ['--config', file];

  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(await metrics(), /vigil_incident_unacknowledged_seconds\{environment="production",severity="S1"\} \d/);

  const wrongToken = await vigil(['ack', '1', '--by', 'ana', ...cfg], { VIGIL_API_TOKEN: 'not-the-token' });
  t.same([wrongToken.code, wrongToken.stderr], [1, 'vigil: invalid token (HTTP 401 unauthorized)\n']);

  const ack = await vigil(['ack', '1', '--by', 'ana', ...cfg], withToken);
  t.same([ack.code, ack.stdout], [0, '#1 S1 Backend API down on production: acknowledged by ana.\n']);
  t.notMatch(await metrics(), /vigil_incident_unacknowledged_seconds\{/, 'acknowledged: no longer waiting');
  const again = await vigil(['ack', '1', '--by', 'bo', ...cfg], withToken);
  t.same([again.code, again.stderr], [1, 'vigil: incident 1 is already acknowledged (HTTP 409 conflict)\n'], "the server's error");

  const note = await vigil(['note', '1', '--by', 'ana', 'restarted', 'the', 'backend', ...cfg], withToken);
  t.same([note.code, note.stdout], [0, '#1 S1 Backend API down on production: note by ana added.\n']);
  const resolved = await vigil(['resolve', '1', '--by', 'ana', '--note', 'port 9 is not a backend', ...cfg], withToken);
  t.equal(resolved.code, 0, resolved.stderr);
  t.equal(resolved.stdout, '#1 S1 Backend API down on production: resolved by ana.\n');
  const unknown = await vigil(['resolve', '99', '--by', 'ana', ...cfg], withToken);
  t.same([unknown.code, unknown.stderr], [1, 'vigil: incident 99 is not open or recently resolved (HTTP 404 not_found)\n']);

  await daemon.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('[REVIEW] S1 - Backend API down on production.'));
  t.ok(daemon.messages().includes(`[REVIEW] S1 - Backend API down on production. Post-incident review draft: http://127.0.0.1:${port}/status/incidents/1`));

  const review = await vigil(['review', '1', ...cfg], withToken);
  t.equal(review.code, 0, review.stderr);
  t.match(review.stdout, /^# Post-incident review: #1 S1 Backend API down on production\n/);
  t.match(review.stdout, /\| acknowledged \| ana \| Acknowledged by ana after/);
  t.match(review.stdout, /\| note \| ana \| restarted the backend \|/);
  t.match(review.stdout, /Resolved by ana at .*: Resolved by ana after/);
  const api = await fetch(`http://127.0.0.1:${port}/api/incidents/1/review`);
  t.equal(api.headers.get('content-type'), 'text/markdown; charset=utf-8');
  t.equal(await api.text(), review.stdout, 'the API serves the same review');
  t.equal((await fetch(`http://127.0.0.1:${port}/api/incidents/99/review`)).status, 404);

  const missing = await vigil(['review', '99', ...cfg], withToken);
  t.same([missing.code, missing.stdout], [1, '']);
  t.match(missing.stderr, /^vigil: no incident 99 in /);
  const usage = await vigil(['ack', '1', ...cfg], withToken);
  t.equal(usage.code, 64, 'no --by is a usage error');
  t.notMatch(daemon.stdout + daemon.stderr, new RegExp(TOKEN), 'the token never reaches the log');
});

t.test('the write commands say so when no daemon answers', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cmds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, `server: { listen: 127.0.0.1:${port} }\nstore: { path: ${join(dir, 'v.db')} }\nenvironments: { production: {} }\nprobes: []\n`);
  const r = await vigil(['ack', '3', '--by', 'ana', '--config', file], { VIGIL_API_TOKEN: TOKEN });
  t.equal(r.code, 1);
  t.equal(r.stderr, `vigil: cannot reach the vigil daemon at http://127.0.0.1:${port} (connection refused); is \`vigil run\` running with this config?\n`);
});
