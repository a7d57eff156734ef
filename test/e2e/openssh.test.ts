// Interop with real OpenSSH: sshd on 127.0.0.1 with a ForceCommand that plays docker, compose probes and pg_ready through its forwarding.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { pgReadyProbe, type PgReadyProbe } from '../../src/probes/pg-ready.js';
import { runProbe } from '../../src/probes/index.js';
import { createTransports } from '../../src/transport/index.js';
import type { Finding } from '../../src/types.js';
import { startPostgres } from '../helpers/pg.js';
import { FIXTURES, generateKey } from '../helpers/ssh-server.js';
import { PEERS, skipWithout } from '../helpers/peers.js';
import { baseSshdConfig, startSshd, stopSshd as stop } from '../helpers/sshd.js';
import { tmpDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/vigil-process.js';

const skip = skipWithout(PEERS.sshd);
if (skip) t.test('vigil against a real OpenSSH sshd', { skip }, () => undefined);
else await main();

async function main(): Promise<void> {
  const dir = tmpDir(t, 'vigil-sshd-');
  const composeDir = join(dir, "compose dir; it's here");
  const bin = join(dir, 'bin');
  mkdirSync(composeDir);
  mkdirSync(bin);
  if (userInfo().uid === 0) mkdirSync('/run/sshd', { recursive: true });

  // The host key comes from OpenSSH's own tool, and so does the fingerprint vigil is pinned to.
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const hostKeyLine = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim();
  const client = generateKey();
  writeFileSync(join(dir, 'authorized_keys'), `${client.public}\n`);
  const otherHostKey = generateKey().public.split(' ').slice(0, 2).join(' ');

  // `docker` answers only in the compose directory, so a quoting mistake in `cd` shows up as a failure.
  writeFileSync(join(bin, 'docker'), `#!/bin/sh
[ "$(pwd)" = ${shq(composeDir)} ] || { echo "docker: run from $(pwd)" >&2; exit 3; }
case "$*" in
  "compose ps --all --format json") cat ${shq(join(FIXTURES, 'ps-trouble.jsonl'))} ;;
  "compose logs --no-color --timestamps --since 300s backend") cat ${shq(join(FIXTURES, 'logs-backend.txt'))} ;;
  *) echo "docker: unexpected arguments: $*" >&2; exit 1 ;;
esac
`);
  // The host probe's `df` and `cat /proc/meminfo` answer a Sartiq VM's output, only in the C locale it asks for.
  const hostFixtures = join(FIXTURES, '..', 'host');
  writeFileSync(join(bin, 'df'), `#!/bin/sh
[ "$LC_ALL" = C ] || { echo "df: expected LC_ALL=C, got '$LC_ALL'" >&2; exit 3; }
case "$*" in
  "-P") /bin/cat ${shq(join(hostFixtures, 'df-P.txt'))} ;;
  "-Pi") /bin/cat ${shq(join(hostFixtures, 'df-Pi.txt'))} ;;
  *) echo "df: unexpected arguments: $*" >&2; exit 1 ;;
esac
`);
  writeFileSync(join(bin, 'cat'), `#!/bin/sh
[ "$*" = /proc/meminfo ] && exec /bin/cat ${shq(join(hostFixtures, 'meminfo.txt'))}
exec /bin/cat "$@"
`);
  chmodSync(join(bin, 'df'), 0o755);
  chmodSync(join(bin, 'cat'), 0o755);
  // ForceCommand runs for exec sessions only; TCP forwarding is untouched by it.
  writeFileSync(join(dir, 'force.sh'), `#!/bin/sh\nPATH=${shq(bin)}:$PATH\nexport PATH\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
  chmodSync(join(bin, 'docker'), 0o755);
  chmodSync(join(dir, 'force.sh'), 0o755);
  chmodSync(join(dir, 'host_ed25519'), 0o600);

  const port = await freePort();
  const sshLog = join(dir, 'sshd.log');
  writeFileSync(join(dir, 'sshd_config'), [
    ...baseSshdConfig({ port, hostKeys: [join(dir, 'host_ed25519')], pidFile: join(dir, 'sshd.pid'), authorizedKeys: join(dir, 'authorized_keys') }),
    'AllowTcpForwarding yes',
    `ForceCommand ${join(dir, 'force.sh')}`,
    // DEBUG1 logs each direct-tcpip request: the proof that the database probe went through sshd.
    'LogLevel DEBUG1',
    '',
  ].join('\n'));
  const sshd = await startSshd(join(dir, 'sshd_config'), sshLog, port);
  t.teardown(() => stop(sshd));

  const pg = await startPostgres(t);
  const yaml = `
environments: { production: {} }
defaults: { timeout: 10s }
hosts:
  real-ssh:
    environment: production
    address: 127.0.0.1
    port: ${port}
    user: ${userInfo().username}
    private_key_env: E2E_SSH_KEY
    host_key_sha256: "${fingerprint}"
    compose_dir: ${JSON.stringify(composeDir)}
  by-line:
    environment: production
    address: 127.0.0.1
    port: ${port}
    user: ${userInfo().username}
    private_key_env: E2E_SSH_KEY
    host_key: "${hostKeyLine}"
    compose_dir: ${JSON.stringify(composeDir)}
  impostor:
    environment: production
    address: 127.0.0.1
    port: ${port}
    user: ${userInfo().username}
    private_key_env: E2E_SSH_KEY
    host_key: "${otherHostKey}"
    compose_dir: /srv
    unreachable_severity: S1
databases:
  app-db: { environment: production, url_env: E2E_DB_URL, via: real-ssh }
probes:
  - { id: app-ps, type: compose_ps, host: real-ssh, services: { backend: S1, db: S1, redis: S2, worker: S2 } }
  - { id: line-ps, type: compose_ps, host: by-line, services: { worker: S2 } }
  - { id: app-errors, type: compose_logs, host: real-ssh, service: backend, pattern: "ERROR|Traceback" }
  - { id: impostor-ps, type: compose_ps, host: impostor, services: { backend: S1 } }
  - { id: app-db-ready, type: pg_ready, database: app-db }
  - { id: app-disks, type: host, host: real-ssh }
`;
  const config = loadConfigText(yaml, 'openssh-e2e.yaml', { E2E_SSH_KEY: client.private, E2E_DB_URL: pg.monitorUrl });
  const log = pino({ enabled: false });
  const transports = createTransports(config, log);
  t.teardown(() => transports.close());
  const probe = (id: string) => config.probes.find((p) => p.id === id)!;
  const run = async (id: string) => (await runProbe(probe(id), AbortSignal.timeout(15_000), log, transports)).findings;
  const byKey = (fs: Finding[]) => Object.fromEntries(fs.map((f) => [f.key, f]));

  t.test('compose_ps through sshd, pinned by the fingerprint ssh-keygen prints', async (t) => {
    const f = byKey(await run('app-ps'));
    t.match(f['host:real-ssh'], { ok: true });
    t.match(f['app-ps'], { ok: true, message: /listed 3 containers/ });
    t.match(f['app-ps:backend'], { ok: false, severity: 'S1', message: /unhealthy/ });
    t.match(f['app-ps:db'], { ok: false, message: /not running: exited, exit code 137/ });
    t.match(f['app-ps:worker'], { ok: false, message: /restarting/ });
    t.match(f['app-ps:redis'], { ok: false, message: /missing/ });
    const line = byKey(await run('line-ps'));
    t.match(line['host:by-line'], { ok: true }, 'a host_key line pins as well');
  });

  t.test('compose_logs through sshd', async (t) => {
    const f = byKey(await run('app-errors'));
    t.match(f['app-errors'], { ok: false, values: { count: 4 } });
    const evidence = f['app-errors']?.evidence;
    t.type(evidence, 'string', 'the matching lines are kept as evidence');
    t.ok(evidence!.length > 0, 'and there is evidence to check');
    t.notMatch(evidence, 'hunter2');
  });

  t.test('host: df -P, df -Pi and /proc/meminfo through sshd, one finding per mount', async (t) => {
    const f = byKey(await run('app-disks'));
    t.match(f['host:real-ssh'], { ok: true });
    t.match(f['app-disks'], { ok: true, message: 'real-ssh: 3 mounts, fullest / 91%, memory 92% used' });
    t.match(f['app-disks:disk:/'], { ok: false, severity: 'S3', message: /^disk filling: \/ on real-ssh 91% full/ });
    t.match(f['app-disks:disk:/var/lib/postgresql data'], { ok: false, severity: 'S2', message: /^out of inodes: / });
    t.match(f['app-disks:disk:/boot/efi'], { ok: true });
    t.match(f['app-disks:memory'], { ok: false, severity: 'S3' });
    t.equal(f['app-disks:disk:/snap/core20/2318'], undefined, "snap's always-full images are left out");
  });

  t.test('a host presenting another key is a possible interception, never logged in to', async (t) => {
    const before = readFileSync(sshLog, 'utf8').split('Accepted publickey').length;
    const f = await run('impostor-ps');
    t.equal(f.length, 1);
    t.match(f[0], { key: 'host:impostor', ok: false, severity: 'S1', message: /possible interception \(man-in-the-middle\).*presented SHA256/ });
    t.match(f[0]?.message, fingerprint, 'the presented fingerprint is the one ssh-keygen printed');
    t.equal(readFileSync(sshLog, 'utf8').split('Accepted publickey').length, before, 'no login happened');
  });

  t.test('pg_ready reaches PostgreSQL through sshd TCP forwarding, and a dead tunnel is the host failing', async (t) => {
    const ctx = { signal: AbortSignal.timeout(15_000), log, now: Date.now, transports };
    const ok = byKey(await pgReadyProbe(probe('app-db-ready') as PgReadyProbe, ctx));
    t.match(ok['app-db-ready'], { ok: true, message: /accepting connections/ });
    t.match(ok['host:real-ssh'], { ok: true });
    t.match(readFileSync(sshLog, 'utf8'), new RegExp(`direct-tcpip.*target 127\\.0\\.0\\.1 port ${pg.port}|target 127\\.0\\.0\\.1 port ${pg.port}`), 'sshd forwarded the connection');

    await stop(sshd);
    // The connection's end reaches vigil a moment after sshd's; a run in between meets the race that
    // tunnelError() covers, this one the settled state where tunnel() itself reports the host.
    for (let i = 0; i < 100; i++) {
      const gone = await transports.ssh.tunnel('real-ssh', '127.0.0.1', pg.port, AbortSignal.timeout(5_000)).then(() => false, () => true);
      if (gone) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const down = await pgReadyProbe(probe('app-db-ready') as PgReadyProbe, { ...ctx, signal: AbortSignal.timeout(15_000) });
    const failed = down.filter((x) => !x.ok);
    t.ok(failed.length > 0);
    t.ok(failed.every((x) => x.key === 'host:real-ssh'), `only the host fails: ${failed.map((x) => `${x.key}: ${x.message}`).join('; ')}`);
  });
}

function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
