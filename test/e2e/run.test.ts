// End to end: the real `vigil run` process watches a real target that goes down and up, survives a
// SIGKILL mid-incident without announcing again, reloads on SIGHUP and stops cleanly on SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';
import { Target, api } from './alerts-fleet.js';

/** Timeouts of 2 s, not 400 ms, so a loaded machine does not fail the healthy target (see alertsConfig). */
function config(vigilPort: number, targetPort: number, dbPath: string, extraProbe = ''): string {
  return `
server:
  listen: 127.0.0.1:${vigilPort}
  public_url: http://127.0.0.1:${vigilPort}
store:
  path: ${dbPath}
defaults:
  interval: 2s
  timeout: 2s
  failure_threshold: 2
  success_threshold: 2
environments:
  production: {}
probes:
  - id: backend-health
    type: http
    environment: production
    service: backend
    severity: S1
    summary: Backend API down
    url: http://127.0.0.1:${targetPort}/health
    expect: { json: { status: ok } }
${extraProbe}`;
}

t.test('vigil run: down → incident, SIGKILL → resumed without a second page, up → resolved', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  await target.up();
  t.teardown(() => target.down());
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, config(vigilPort, targetPort, join(dir, 'vigil.db')));

  let vigil = new VigilProcess(['run', '--config', file]);
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.ready(vigilPort);
  t.same((await api(vigilPort, '/api/incidents?state=open')).body, { incidents: [] }, 'no incident while the target is up');

  await target.down();
  const opened = await vigil.waitForLine((l) => l.event === 'opened');
  t.equal(opened.msg, '[INCIDENT] S1 - Backend API down on production. Investigating.', 'the exact #ops wording');
  t.equal(opened.level, 'error', 'S1 logs at error');
  t.match(opened, { incident_id: Number, severity: 'S1', environment: 'production', service: 'backend', probe: 'backend-health', summary: 'Backend API down' });
  const id = opened.incident_id as number;
  const inc = await api(vigilPort, `/api/incidents/${id}`);
  t.equal(inc.status, 200);
  t.match(inc.body, { id, state: 'open', severity: 'S1', environment: 'production', service: 'backend', root_probe: 'backend-health' });
  t.match(inc.body.timeline[0], { event: 'opened' });
  t.match(inc.body.respond_by, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'an S1 has a respond-by time');
  const metrics = await (await fetch(`http://127.0.0.1:${vigilPort}/metrics`)).text();
  t.match(metrics, /vigil_probe_success\{probe="backend-health",type="http",environment="production",service="backend"\} 0/);
  t.match(metrics, /vigil_incidents_open\{environment="production",severity="S1"\} 1/);

  // Crash mid-incident; the restarted daemon must resume it without paging again.
  vigil.kill('SIGKILL');
  await vigil.exited;
  vigil = new VigilProcess(['run', '--config', file]);
  await vigil.ready(vigilPort);
  const after = await api(vigilPort, '/api/incidents?state=open');
  t.equal(after.body.incidents.length, 1, 'still exactly one open incident');
  t.equal(after.body.incidents[0].id, id, 'the same incident');
  const started = await vigil.waitForLine((l) => /vigil watching/.test(l.msg));
  t.equal(started.open_incidents, 1, 'the restart reports the resumed incident');

  await target.up();
  const resolved = await vigil.waitForLine((l) => l.event === 'resolved');
  t.match(resolved.msg, /^\[RESOLVED\] S1 - Backend API down on production\. Resolved after (\d+m )?\d+s\.$/);
  t.equal(vigil.lines.filter((l) => l.event === 'opened' || l.event === 'reopened').length, 0, 'never announced again after the restart');
  const final = await api(vigilPort, `/api/incidents/${id}`);
  t.equal(final.body.state, 'resolved');
  t.ok(final.body.resolved_at);

  vigil.kill('SIGTERM');
  const exit = await Promise.race([vigil.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
  t.same(exit, { code: 0, signal: null }, 'SIGTERM stops cleanly within 15 s');
  t.ok(vigil.lines.some((l) => l.msg === 'vigil stopped'));
});

t.test('vigil run: SIGHUP reloads a good config and refuses a bad one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  await target.up();
  t.teardown(() => target.down());
  const file = join(dir, 'vigil.yaml');
  const db = join(dir, 'vigil.db');
  writeFileSync(file, config(vigilPort, targetPort, db));
  const vigil = new VigilProcess(['run', '--config', file]);
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.ready(vigilPort);

  writeFileSync(file, `${config(vigilPort, targetPort, db)}\n  - { id: broken, type: http, interval: soon }\n`);
  vigil.kill('SIGHUP');
  const refused = await vigil.waitForLine((l) => /config reload refused/.test(l.msg));
  t.match(JSON.stringify(refused.problems), /expected a duration like \\"30s\\", got \\"soon\\"/, 'says what is wrong and where');
  t.equal((await api(vigilPort, '/healthz')).status, 200, 'the old config keeps running');

  const extra = `  - id: second-health
    type: http
    environment: production
    service: webapp
    url: http://127.0.0.1:${targetPort}/other
`;
  writeFileSync(file, config(vigilPort, targetPort, db, extra));
  vigil.kill('SIGHUP');
  await vigil.waitForLine((l) => /config reloaded/.test(l.msg));
  const status = await waitFor(async () => {
    const s = await api(vigilPort, '/api/status');
    const text = JSON.stringify(s.body);
    return text.includes('second-health') && text.includes('webapp') ? s : null;
  }, 15_000);
  t.ok(status, 'the new probe shows up in /api/status');
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
});

t.test('vigil run with a bad config exits 78 and names file, line and key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'environments:\n  production: {}\nprobes:\n  - id: x\n    type: http\n    environment: production\n    url: http://127.0.0.1:1/\n    interval: soon\n');
  const vigil = new VigilProcess(['run', '--config', file]);
  const exit = await vigil.exited;
  t.equal(exit.code, 78);
  t.match(vigil.stderr, `${file}:8:5 probes[0].interval: expected a duration like "30s", got "soon"`);
});

t.test('vigil run: SIGTERM while a probe and the heartbeat both hang still exits 0 within 15 s', async (t) => {
  const { startSilentServer } = await import('../helpers/http-servers.js');
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const vigilPort = await freePort();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:${vigilPort} }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 1s, timeout: 1s }
environments: { production: {} }
alerts:
  betterstack: { heartbeat_url_env: HEARTBEAT_URL, heartbeat_interval: 1m }
probes:
  - { id: slow-api, type: http, environment: production, service: backend, url: "${silent.url}/health", interval: 1m, timeout: 30s }
`,
  );
  const vigil = new VigilProcess(['run', '--config', file], { HEARTBEAT_URL: `${silent.url}/api/v1/heartbeat/tok` });
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.waitForLine((l) => /vigil watching/.test(l.msg));
  // The heartbeat's first ping hangs (its timeout is 10 s); slow-api's first run, due ~4 s in, hangs (30 s).
  await new Promise((r) => setTimeout(r, 5_500));
  const started = Date.now();
  vigil.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1_000));
  vigil.kill('SIGHUP'); // e.g. a config-management run racing the deploy's stop
  const exit = await Promise.race([vigil.exited, new Promise((r) => setTimeout(() => r('hung'), 20_000))]);
  const took = Date.now() - started;
  t.notOk(vigil.lines.some((l) => /config reload/.test(l.msg)), 'a SIGHUP while stopping does not reschedule the probes');
  t.same(exit, { code: 0, signal: null }, 'a clean stop');
  t.ok(took < 15_000, `within SIGTERM's 15 s (took ${took} ms)`);
  t.ok(vigil.lines.some((l) => l.msg === 'vigil stopped'));
});
