// The compose_ps probe against an in-process SSH host playing docker: both JSON formats, broken containers, broken docker.
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { createMetrics } from '../../src/metrics.js';
import { composePsProbe, type ComposePsProbe, observeComposePs, parseComposePs } from '../../src/probes/compose-ps.js';
import { observeRun, runProbe } from '../../src/probes/index.js';
import type { Finding } from '../../src/types.js';
import type { ProbeContext } from '../../src/probes/contract.js';
import { unusedPort } from '../helpers/http-servers.js';
import { type FakeSshHost, composeTestProbe, fixture, hostFor, startSshServer, transportsFor } from '../helpers/ssh-server.js';
import { startFreezableProxy } from '../helpers/tcp-proxy.js';
import { matchExactly } from '../helpers/match.js';

const log = pino({ enabled: false });
const SERVICES = { backend: 'S1', db: 'S1', redis: 'S2', worker: 'S2' };

function probe(raw: Record<string, unknown> = {}): ComposePsProbe {
  return composeTestProbe({ type: 'compose_ps', services: SERVICES, ...raw }) as ComposePsProbe;
}

async function runAgainst(t: Test, fake: FakeSshHost, p = probe(), hostOverrides = {}): Promise<Finding[]> {
  const ctx: ProbeContext = { signal: new AbortController().signal, log, now: Date.now, transports: transportsFor(t, [hostFor(fake, hostOverrides)]) };
  return composePsProbe(p, ctx);
}

function byKey(findings: Finding[]): Record<string, Finding> {
  return Object.fromEntries(findings.map((f) => [f.key, f]));
}

t.test('one finding per listed service, from either JSON format', async (t) => {
  for (const file of ['ps-lines.jsonl', 'ps-array.json']) {
    const fake = await startSshServer(t);
    fake.scene.ps = file;
    const findings = await runAgainst(t, fake);
    const f = byKey(findings);
    t.same(Object.keys(f), ['host:app-1', 'app-ps', 'app-ps:backend', 'app-ps:db', 'app-ps:redis', 'app-ps:worker'], file);
    t.ok(findings.every((x) => x.ok), file);
    t.match(f['app-ps:backend'], { service: 'backend', severity: 'S1', values: { up: 1 }, message: 'backend on app-1: running, healthy' });
    t.match(f['app-ps:redis'], { service: 'redis', severity: 'S2', message: 'redis on app-1: running' });
    t.equal(fake.commands[0], `cd /home/ubuntu/services/shootify-deploy && docker compose ps --all --format json`);
  }
});

t.test('unhealthy, exited, restarting and missing containers each fail their own finding', async (t) => {
  const fake = await startSshServer(t);
  fake.scene.ps = 'ps-trouble.jsonl';
  const f = byKey(await runAgainst(t, fake));
  t.match(f['host:app-1'], { ok: true });
  t.match(f['app-ps'], { ok: true, message: 'docker compose ps on app-1 listed 3 containers' });
  t.match(f['app-ps:backend'], { ok: false, severity: 'S1', values: { up: 0 }, message: 'backend on app-1: unhealthy (shootify-backend-1: Up 14 minutes (unhealthy))' });
  t.match(f['app-ps:db'], { ok: false, message: 'db on app-1: not running: exited, exit code 137 (shootify-db-1: Exited (137) 3 minutes ago)' });
  t.match(f['app-ps:worker'], { ok: false, severity: 'S2', message: 'worker on app-1: restarting, exit code 1 (shootify-worker-1: Restarting (1) 8 seconds ago)' });
  t.match(f['app-ps:redis'], { ok: false, message: /redis on app-1: missing/ });
  t.match(f['app-ps:db']?.evidence, /NAME\s+SERVICE\s+STATE\s+HEALTH\s+STATUS\nshootify-backend-1\s+backend\s+running\s+unhealthy/);
});

t.test('vigil_container_up follows the per-service findings', async (t) => {
  const fake = await startSshServer(t);
  fake.scene.ps = 'ps-trouble.jsonl';
  const p = probe();
  const run = await runProbe(p, new AbortController().signal, log, transportsFor(t, [hostFor(fake)]));
  const metrics = createMetrics('test', { defaults: false });
  observeRun(p, run.findings, metrics);
  const text = await metrics.registry.metrics();
  t.match(text, 'vigil_container_up{host="app-1",service="backend"} 0');
  t.match(text, 'vigil_container_up{host="app-1",service="db"} 0');
  t.equal(run.outcome, 'failure');
  fake.scene.ps = 'ps-lines.jsonl';
  observeComposePs(p, await runAgainst(t, fake), metrics);
  t.match(await metrics.registry.metrics(), 'vigil_container_up{host="app-1",service="backend"} 1');
});

t.test('docker missing, a compose error and garbage output are clear findings', async (t) => {
  const fake = await startSshServer(t);
  const missing = byKey(await runAgainst(t, fake, probe(), { docker: 'nodocker' }));
  t.match(missing['app-ps'], { ok: false, message: 'docker not found on app-1 (exit 127: sh: 1: nodocker: not found); check hosts.app-1.docker' });
  t.equal(missing['app-ps:backend'], undefined, 'no service verdicts without a container list');

  fake.reply = () => ({ stderr: 'no configuration file provided: not found\n', code: 1 });
  const composeError = byKey(await runAgainst(t, fake));
  t.match(composeError['app-ps'], { ok: false, message: 'docker compose ps on app-1 failed (exit 1): no configuration file provided: not found' });

  fake.reply = () => ({ stdout: fixture('ps-garbage.txt') });
  const garbage = byKey(await runAgainst(t, fake));
  t.match(garbage['app-ps'], { ok: false, message: 'output of docker compose ps on app-1 is not JSON (line 1 does not parse as JSON)', evidence: /NAME   IMAGE/ });
  t.match(garbage['host:app-1'], { ok: true });
});

t.test('an unreachable host yields only the host finding, at the host\'s severity', async (t) => {
  const fake = await startSshServer(t);
  const findings = await runAgainst(t, fake, probe(), { port: await unusedPort(), unreachable_severity: 'S1' });
  t.equal(findings.length, 1);
  t.match(findings[0], { key: 'host:app-1', ok: false, severity: 'S1', message: /connection refused/ });
});

t.test('a hung docker and a disconnect mid-command', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = () => ({ hang: true });
  const hung = byKey(await runAgainst(t, fake, probe({ timeout: '300ms' }), {}));
  t.match(hung['app-ps'], { ok: false, message: 'docker compose ps on app-1 did not finish within 300ms; vigil closed the command' });
  fake.reply = () => ({ stdout: '{"Service":"backend",', disconnect: true });
  const dropped = await runAgainst(t, fake);
  matchExactly(t, dropped, [{ key: 'host:app-1', ok: false, message: /lost while running a command/ }]);
  t.equal(dropped.length, 1);
});

t.test('a host that stops answering mid-command: the host finding fails, not the containers', async (t) => {
  const fake = await startSshServer(t);
  const proxy = await startFreezableProxy(t, fake.port);
  const ctx: ProbeContext = { signal: new AbortController().signal, log, now: Date.now, transports: transportsFor(t, [hostFor(fake, { port: proxy.port })]) };
  t.ok((await composePsProbe(probe(), ctx)).every((f) => f.ok), 'all well while the host answers');
  fake.reply = () => ({ hang: true });
  const running = composePsProbe(probe({ timeout: '800ms' }), ctx);
  for (let i = 0; i < 100 && fake.stats.running === 0; i++) await new Promise((r) => setTimeout(r, 20));
  proxy.freeze();
  const findings = await running;
  matchExactly(t, findings, [{ key: 'host:app-1', ok: false, severity: 'S2', message: /the host stopped answering while running a command/ }]);
  t.equal(findings.length, 1, 'no container or command finding: they are the host\'s symptoms');
});

t.test('config values reach the remote shell quoted', async (t) => {
  const fake = await startSshServer(t);
  await runAgainst(t, fake, probe(), { compose_dir: "/srv/it's here; touch /tmp/pwned", docker: 'sudo docker' });
  t.equal(fake.commands[0], `cd "/srv/it's here; touch /tmp/pwned" && sudo docker compose ps --all --format json`);
});

t.test('parseComposePs', async (t) => {
  t.same(parseComposePs(''), []);
  t.same(parseComposePs('[]\n'), []);
  t.match(parseComposePs('{"Service":"a","State":"Running","Health":"","ExitCode":0}\n\n{"Service":"b","State":"exited","ExitCode":2}'), [
    { service: 'a', state: 'running', exitCode: 0 },
    { service: 'b', state: 'exited', exitCode: 2 },
  ]);
  t.throws(() => parseComposePs('{"Service":"a"}'), { code: 'VIGIL_ERR_COMPOSE_OUTPUT', message: /no "Service" and "State"/ });
  t.throws(() => parseComposePs('[1, 2]'), { message: /entry 1 is not a JSON object/ });
  t.throws(() => parseComposePs('[{"Service":'), { message: /does not parse as JSON/ });
});
