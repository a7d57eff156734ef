// End to end: `vigil ack`, `resolve`, `note` write through a real `vigil run` over HTTP; `vigil review` reads the store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { VigilProcess, runCli as vigil, freePort } from '../helpers/vigil-process.js';

const TOKEN = 'e2e-token-5f1c9a7d';
// A dozen CLI processes on a busy machine: the bounds below only catch a hang.
t.setTimeout(400_000);

/** Seconds in a duration as vigil prints it ("1m 3s", "45s", "0ms"). */
function seconds(text: string): number {
  const units: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1, ms: 0.001 };
  const parts = [...text.matchAll(/(\d+)(ms|d|h|m|s)\b/g)];
  if (parts.length === 0) throw new Error(`not a duration: ${text}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

/** "12s so far", and once reopened "1m 12s over 2 failing periods so far". */
const SO_FAR = /((?:\d+(?:ms|d|h|m|s) )*\d+(?:ms|d|h|m|s))( over \d+ failing periods)? so far/g;

/**
 * A review of a still-open incident read at some moment in [from, to]: its "… so far" durations (the
 * downtime since `downSince`, the time it spent resolved left out), each checked to lie between from
 * and to (a second of rounding either way), replaced by a placeholder so two reads taken at different
 * moments compare equal when nothing else differs.
 */
function openReview(t: Test, text: string, downSince: number, from: number, to: number, name: string): string {
  const found = [...text.matchAll(SO_FAR)].map((m) => m[1]!);
  t.ok(found.length > 0, `${name}: the open incident's review says how long it has been down so far`);
  for (const d of found) {
    const s = seconds(d);
    t.ok(s >= (from - downSince) / 1000 - 1 && s <= (to - downSince) / 1000 + 1, `${name}: ${d} so far lies in [${((from - downSince) / 1000).toFixed(1)}s, ${((to - downSince) / 1000).toFixed(1)}s]`);
  }
  return text.replace(SO_FAR, '<duration>$2 so far');
}

t.test('ack, note, resolve through the daemon; review from the store', { timeout: 360_000 }, async (t) => {
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
  await daemon.waitForLine((l) => l.event === 'opened' && l.incident_id === 1, 120_000);
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

  await daemon.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('[REVIEW] S1 - Backend API down on production.'), 120_000);
  t.ok(daemon.messages().includes(`[REVIEW] S1 - Backend API down on production. Post-incident review draft: http://127.0.0.1:${port}/status/incidents/1`));

  // The probe still fails, so the incident reopens at its next run (threshold 1). Both reviews are read
  // after that: one read on each side of the reopening would differ, and the reopened one keeps counting.
  await daemon.waitForLine((l) => l.event === 'reopened' && l.incident_id === 1, 120_000);
  const cliFrom = Date.now();
  const review = await vigil(['review', '1', ...cfg], withToken);
  const cliTo = Date.now();
  t.equal(review.code, 0, review.stderr);
  t.match(review.stdout, /^# Post-incident review: #1 S1 Backend API down on production\n/);
  t.match(review.stdout, /\| acknowledged \| ana \| Acknowledged by ana after/);
  t.match(review.stdout, /\| note \| ana \| restarted the backend \|/);
  t.match(review.stdout, /Resolved by ana at .*: Resolved by ana after/);
  const apiFrom = Date.now();
  const api = await fetch(`http://127.0.0.1:${port}/api/incidents/1/review`);
  const apiText = await api.text();
  const apiTo = Date.now();
  t.equal(api.headers.get('content-type'), 'text/markdown; charset=utf-8');
  const json = (await (await fetch(`http://127.0.0.1:${port}/api/incidents/1`)).json()) as {
    detected_at: string | null;
    opened_at: string;
    timeline: Array<{ at: string; event: string }>;
  };
  const detected = Date.parse(json.detected_at ?? json.opened_at);
  const at = (event: string) => Date.parse(json.timeline.find((e) => e.event === event)!.at);
  const downSince = detected + (at('reopened') - at('resolved'));
  t.equal(
    openReview(t, apiText, downSince, apiFrom, apiTo, 'API'),
    openReview(t, review.stdout, downSince, cliFrom, cliTo, 'CLI'),
    'the API serves the same review, read a moment later',
  );
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
