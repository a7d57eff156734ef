// `vigil check` as an operator runs it: real targets, the real CLI, the exit code tells the worst.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprintOf } from '../../src/transport/ssh-hostkey.js';
import { generateKey, startSshServer } from '../helpers/ssh-server.js';
import { VigilProcess, freePort } from '../helpers/vigil-process.js';

async function runCheck(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new VigilProcess(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

t.test('vigil check reports grouped findings and exits with the worst severity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const srv = createServer((req, res) => {
    if (req.url === '/broken') {
      res.statusCode = 500;
      res.end('database is gone');
    } else res.end('ok');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const closed = await freePort();
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `environments:
  production: {}
  staging: { severity_cap: S3 }
probes:
  - { id: api-ok, type: http, environment: production, service: backend, url: "http://127.0.0.1:${port}/" }
  - { id: api-broken, type: http, environment: production, service: backend, severity: S1, summary: Backend API down, url: "http://127.0.0.1:${port}/broken" }
  - { id: staging-down, type: http, environment: staging, service: compute, severity: S1, url: "http://127.0.0.1:${closed}/" }
`,
  );

  const all = await runCheck(['check', '--config', file]);
  t.equal(all.code, 2, 'exit 2: the worst failure is S1');
  t.match(all.stdout, /3 checks: 1 passed, 2 failed/);
  t.match(all.stdout, /S1 api-broken {2}HTTP 500/);
  t.match(all.stdout, /S3 staging-down {2}.*refused/, 'staging is capped at S3');
  t.ok(all.stdout.indexOf('staging') < all.stdout.indexOf('production'), 'the worst environment comes last');
  t.match(all.stdout.trim().split('\n').at(-1), /^Worst: S1 api-broken on production\/backend: HTTP 500/);

  const json = await runCheck(['check', '--json', '--config', file, '--only', 'staging-down']);
  t.equal(json.code, 1, 'exit 1: only an S3 failure');
  const parsed = JSON.parse(json.stdout);
  t.equal(parsed.worst, 'S3');
  t.equal(parsed.results.length, 1);
  t.match(parsed.results[0], { probe: 'staging-down', ok: false, severity: 'S3', environment: 'staging' });

  const ok = await runCheck(['check', '--config', file, '--only', 'api-ok']);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /All checks passed\./);

  const unknown = await runCheck(['check', '--config', file, '--only', 'nope']);
  t.equal(unknown.code, 78);
  t.match(unknown.stderr, /no probe with id "nope"/);
});

t.test('vigil validate refuses a host_key that holds no key; vigil check calls a wrong pin a possible interception, not a failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ssh = await startSshServer(t);
  const stranger = Buffer.from(generateKey().public.split(' ')[1]!, 'base64');
  const file = join(dir, 'vigil.yaml');
  const host = (name: string, pin: string, extra = '') =>
    `  ${name}: { environment: production, address: 127.0.0.1, port: ${ssh.port}, user: vigil, private_key_env: CHECK_SSH_KEY, ${pin}, compose_dir: /srv${extra} }`;
  const impostor = host('impostor', `host_key_sha256: "${fingerprintOf(stranger)}"`, ', unreachable_severity: S1');
  const impostorProbe = '  - { id: db-ps, type: compose_ps, environment: production, service: db, host: impostor, services: { db: S1 } }';
  writeFileSync(
    file,
    `environments: { production: {} }
hosts:
${host('unpinned', 'host_key: "ssh-ed25519 the-key-goes-here"')}
${impostor}
probes:
  - { id: app-ps, type: compose_ps, environment: production, service: backend, host: unpinned, services: { backend: S1 } }
${impostorProbe}
`,
  );
  const env = { CHECK_SSH_KEY: ssh.clientKey.private };
  for (const command of ['validate', 'check']) {
    const refused = await runCheck([command, '--config', file], env);
    t.equal(refused.code, 78, `${command}: a config problem`);
    t.match(
      refused.stderr,
      new RegExp(`:3:\\d+ hosts\\.unpinned\\.host_key: expected a public key line like "ssh-ed25519 AAAAC3Nz…" \\(or a known_hosts line\\), got "ssh-ed25519 the-key-goes-here"; get the real one from a trusted network with: ssh-keyscan -p ${ssh.port} -t ed25519 127\\.0\\.0\\.1\\n`),
      `${command}: names the key, where it is, and how to get the real one`,
    );
  }
  t.equal(ssh.stats.authAttempts, 0, 'no connection was made');

  writeFileSync(file, `environments: { production: {} }\nhosts:\n${impostor}\nprobes:\n${impostorProbe}\n`);
  const text = await runCheck(['check', '--config', file], env);
  t.equal(text.code, 2, text.stderr);
  t.match(text.stdout, /1 check: 0 passed, 1 failed/);
  t.match(text.stdout, /S1 db-ps \(host:impostor\) \[possible interception\] {2}SSH host key of impostor [^\n]*possible interception \(man-in-the-middle\)/);
  t.match(text.stdout.trim().split('\n').at(-1), /^Worst: S1 db-ps \(host:impostor\) \[possible interception\] on production\/db: /);
  t.equal(ssh.stats.authAttempts, 0, 'vigil did not log in');

  const json = await runCheck(['check', '--json', '--config', file], env);
  const results = JSON.parse(json.stdout).results as Array<{ probe: string; problem: string | null }>;
  t.same(Object.fromEntries(results.map((r) => [r.probe, r.problem])), { 'db-ps': 'possible interception' }, 'JSON names the kind');
});

t.test('vigil validate and schema', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-validate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'environments:\n  local: {}\nprobes:\n  - { id: a, type: http, environment: local, url: "http://127.0.0.1:1/" }\n');
  const v = await runCheck(['validate', '--config', good]);
  t.equal(v.code, 0);
  t.match(v.stdout, /OK — 1 probe, 1 environment, 0 hosts, 0 databases\n$/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'environments:\n  local: {}\nprobes:\n  - { id: a, type: http, environment: nowhere, url: "http://127.0.0.1:1/", colour: red }\n');
  const b = await runCheck(['validate', '--config', bad]);
  t.equal(b.code, 78);
  t.match(b.stderr, /unknown key "colour"/);
  t.match(b.stderr, /nowhere/);
  t.match(b.stderr, /2 problems in the config/, 'every error at once');
  const s = await runCheck(['schema']);
  t.equal(s.code, 0);
  const schema = JSON.parse(s.stdout);
  t.ok(JSON.stringify(schema).includes('compose_ps'), 'the schema knows every probe type');
});

t.test('reading commands do not create a store the config names wrongly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-nostore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vigil.yaml');
  const store = join(dir, 'typo', 'vigil.db');
  writeFileSync(file, `store: { path: ${store} }\nenvironments:\n  local: {}\n`);
  const list = await runCheck(['incidents', '--config', file]);
  t.equal(list.code, 1, 'no store is an error, not "no incidents"');
  t.match(list.stderr, `no store at ${store}`);
  const review = await runCheck(['review', '1', '--config', file]);
  t.equal(review.code, 1);
  t.notOk(existsSync(join(dir, 'typo')), 'nothing was created');
});
