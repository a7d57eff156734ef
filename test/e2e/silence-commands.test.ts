// End to end: `vigil silence add/list/expire` through a real `vigil run`; a silenced failure is recorded,
// not paged, and pages in #ops once the silence is expired.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, runCli as vigil, freePort, waitFor } from '../helpers/vigil-process.js';

const TOKEN = 'e2e-silence-token-8b2e4d6f';

t.test('silence add, list, expire through the daemon', { timeout: 240_000 }, async (t) => {
  const dir = tmpDir(t, 'vigil-silence-');
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const [port, targetPort] = [await freePort(), await freePort()];
  const broken = { value: false };
  const target: Server = createServer((_req, res) => {
    res.statusCode = broken.value ? 503 : 200;
    res.end(broken.value ? 'down' : 'ok');
  });
  await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    target.closeAllConnections();
    target.close(() => resolve());
  }));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:${port}, api_token_env: VIGIL_API_TOKEN }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 1s, timeout: 900ms, failure_threshold: 2, success_threshold: 2 }
environments: { production: {} }
alerts:
  discord:
    ops: { url_env: DISCORD_WEBHOOK_OPS }
probes:
  - { id: backend-health, type: http, environment: production, service: backend, severity: S1, summary: Backend API down, url: "http://127.0.0.1:${targetPort}/health" }
`,
  );
  // The CLI loads the same config, so it needs the same environment; the token reaches it as $VIGIL_API_TOKEN.
  const env = { VIGIL_API_TOKEN: TOKEN, DISCORD_WEBHOOK_OPS: discord.webhook('ops') };
  const daemon = new VigilProcess(['run', '--config', file], { ...env, VIGIL_LOG_LEVEL: 'info' });
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await daemon.exited;
  });
  await daemon.ready(port, 90_000);
  const cfg = ['--config', file];
  const withToken = env;

  const badProbe = await vigil(['silence', 'add', '--probe', 'nope', '--for', '1h', '--reason', 'deploy', '--by', 'alice', ...cfg], withToken);
  t.equal(badProbe.code, 1);
  t.match(badProbe.stderr, 'body.matchers.probe: no probe "nope" in the config (known: backend-health) (HTTP 400 bad_request)');

  const added = await vigil(['silence', 'add', '--service', 'backend', '--environment', 'production', '--for', '1h', '--reason', 'deploy 2.4', '--by', 'alice', ...cfg], withToken);
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /^silence #1 service=backend, environment=production · deploy 2\.4 · by alice · until \d{4}-\d\d-\d\dT/);
  const listed = await vigil(['silence', 'list', ...cfg], env);
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^#1 service=backend, environment=production · deploy 2\.4 · by alice · until /);

  // On a loaded machine a probe may have timed out already: start from no open incident.
  await waitFor(async () => {
    const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
    return status.open_incidents.length === 0;
  }, 60_000, () => 'an incident stayed open before the fault');
  const incidentLines = () => discord.accepted('ops').filter((m) => m.payload.content?.startsWith('[INCIDENT]'));
  const pagedBefore = incidentLines().length;
  broken.value = true;
  const held = await daemon.waitForLine((l) => l.event === 'maintenance', 60_000);
  const id = held.incident_id as number;
  t.match(String(held.detail), /^(Under|Reopened under) silence #1 \(deploy 2\.4, by alice; service=backend, environment=production\), not paged until it ends/);
  const status = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
  t.match(status, /id="silence-1"[^]*deploy 2\.4/);
  t.equal(incidentLines().length, pagedBefore, 'not paged while silenced');

  const expired = await vigil(['silence', 'expire', '1', '--by', 'bob', ...cfg], withToken);
  t.equal(expired.code, 0, expired.stderr);
  t.match(expired.stdout, /^expired #1 .* ended .* \(expired by bob\)/);
  const paged = await waitFor(() => incidentLines()[pagedBefore], 60_000, () => 'no page after the silence was expired');
  t.equal(paged.payload.content, '[INCIDENT] S1 - Backend API down on production. Investigating.');
  t.equal((await (await fetch(`http://127.0.0.1:${port}/api/incidents/${id}`)).json()).maintenance, null);
  t.match((await vigil(['silence', 'list', '--all', ...cfg], env)).stdout, /#1 .*\(expired by bob\)/);
});
