// The Dockerfile, compose service and systemd unit keep the properties operators rely on (no Docker engine here to build them).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

t.test('Dockerfile: multi-stage, production dependencies only, non-root, healthcheck, config and data paths', async (t) => {
  const text = read('Dockerfile');
  const stages = text.match(/^FROM /gm) ?? [];
  t.ok(stages.length >= 2, 'multi-stage');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  t.match(final, /npm ci --omit=dev/, 'the final stage installs production dependencies only');
  t.match(final, /^USER vigil$/m, 'runs as the vigil user');
  t.match(final, /VIGIL_HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:9477\/healthz/);
  t.match(final, /^HEALTHCHECK [^\n]*\\\n\s+CMD \[[^\n]*VIGIL_HEALTHCHECK_URL/m, 'the healthcheck asks /healthz');
  t.match(final, /VIGIL_CONFIG=\/etc\/vigil\/vigil\.yaml/);
  t.match(final, /^VOLUME \["\/var\/lib\/vigil"\]$/m);
  t.match(final, /COPY src\/server\/views \.\/src\/server\/views/, 'the status page templates, which tsc does not copy');
  const ignored = read('.dockerignore').split('\n');
  for (const entry of ['node_modules', 'dist', 'data', '.git', '*.env']) t.ok(ignored.includes(entry), `.dockerignore has ${entry}`);
});

t.test('deploy/compose.yaml: vigil with its config, data volume, secret and a locked-down container', async (t) => {
  const compose = parse(read('deploy/compose.yaml')) as { services: Record<string, any>; volumes: Record<string, unknown>; secrets: Record<string, unknown> };
  const vigil = compose.services.vigil;
  t.ok(vigil, 'a vigil service');
  t.same(vigil.build, { context: '..', dockerfile: 'Dockerfile' });
  t.ok(vigil.volumes.includes('./vigil.yaml:/etc/vigil/vigil.yaml:ro'), 'the config, read-only, at /etc/vigil');
  t.ok(vigil.volumes.includes('vigil-data:/var/lib/vigil'), 'the store on a named volume');
  t.ok('vigil-data' in compose.volumes);
  t.equal(vigil.read_only, true);
  t.same(vigil.cap_drop, ['ALL']);
  t.ok(vigil.security_opt.includes('no-new-privileges:true'));
  t.ok(vigil.ports.every((p: string) => p.startsWith('127.0.0.1:')), 'published on loopback only');
  t.ok('vigil_ssh_key' in compose.secrets);
  t.same(compose.services.prometheus?.profiles, ['metrics'], 'Prometheus is opt-in');
  t.ok(existsSync(`${ROOT}deploy/prometheus/prometheus.yml`), 'the directory it mounts exists');
});

t.test('deploy/vigil.service: hardened, one writable path, reload by SIGHUP', async (t) => {
  const text = read('deploy/vigil.service');
  const directives = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (key: string) => directives.get(key)?.[0];
  t.equal(one('NoNewPrivileges'), 'yes');
  t.equal(one('ProtectSystem'), 'strict');
  t.equal(one('ProtectHome'), 'yes');
  t.equal(one('StateDirectory'), 'vigil', '/var/lib/vigil is the writable path');
  t.notOk(directives.has('ReadWritePaths'), 'no other writable path');
  t.equal(one('User'), 'vigil');
  t.equal(one('CapabilityBoundingSet'), '');
  t.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  t.equal(one('RestartPreventExitStatus'), '78', 'a bad config is not restarted in a loop');
  t.match(one('ExecStart'), /vigil\.js run$/);
});

t.test('deploy/vigil.service passes systemd-analyze verify', { skip: skipWithout(PEERS.systemdAnalyze) }, async (t) => {
  const analyze = findPeer(PEERS.systemdAnalyze)!;
  // verify checks every directive's name and value against this machine's systemd.
  const { stdout, stderr } = await promisify(execFile)(analyze, ['verify', `${ROOT}deploy/vigil.service`]).catch((err: { stdout: string; stderr: string }) => err);
  t.equal(`${stdout}${stderr}`.trim(), '', 'systemd-analyze verify has nothing to say');
});
