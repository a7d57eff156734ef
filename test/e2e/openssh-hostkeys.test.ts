// A real sshd with two host keys of different types (ed25519 and RSA) against vigil's pins: a SHA256 pin
// of either key connects, a key line pins its own type, and a pin matching neither is refused as a
// possible interception that names every key the server offered, without ever logging in.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { createTransports } from '../../src/transport/index.js';
import { SshError } from '../../src/transport/ssh.js';
import { PEERS, skipWithout } from '../helpers/peers.js';
import { generateKey } from '../helpers/ssh-server.js';
import { baseSshdConfig, startSshd, stopSshd } from '../helpers/sshd.js';
import { tmpDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/vigil-process.js';

const skip = skipWithout(PEERS.sshd);

/** A host key made by ssh-keygen: its file, public line and the fingerprint `ssh-keygen -l` prints. */
function hostKey(dir: string, type: 'ed25519' | 'rsa' | 'ecdsa'): { file: string; line: string; fingerprint: string } {
  const file = join(dir, `host_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  chmodSync(file, 0o600);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { file, line: readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '), fingerprint };
}

t.test('a server with an ed25519 and an RSA host key, pinned each way', { skip, timeout: 120_000 }, async (t) => {
  const dir = tmpDir(t, 'vigil-sshd-keys-');
  if (userInfo().uid === 0) mkdirSync('/run/sshd', { recursive: true });
  const ed25519 = hostKey(dir, 'ed25519');
  const rsa = hostKey(dir, 'rsa');
  const stranger = hostKey(dir, 'ecdsa'); // a key this server does not have
  const client = generateKey();
  writeFileSync(join(dir, 'authorized_keys'), `${client.public}\n`);
  const port = await freePort();
  const sshLog = join(dir, 'sshd.log');
  writeFileSync(join(dir, 'sshd_config'), [
    ...baseSshdConfig({ port, hostKeys: [ed25519.file, rsa.file], pidFile: join(dir, 'sshd.pid'), authorizedKeys: join(dir, 'authorized_keys') }),
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  const sshd = await startSshd(join(dir, 'sshd_config'), sshLog, port);
  t.teardown(() => stopSshd(sshd));

  const pins: Record<string, string> = {
    'ed25519-sha256': `host_key_sha256: "${ed25519.fingerprint}"`,
    'rsa-sha256': `host_key_sha256: "${rsa.fingerprint}"`,
    'rsa-line': `host_key: "${rsa.line}"`,
    'ed25519-line': `host_key: "${ed25519.line}"`,
    'neither-sha256': `host_key_sha256: "${stranger.fingerprint}"`,
    'neither-line': `host_key: "${stranger.line}"`,
  };
  const hosts = Object.entries(pins)
    .map(([name, pin]) => `  ${name}: { environment: production, address: 127.0.0.1, port: ${port}, user: ${userInfo().username}, private_key_env: E2E_SSH_KEY, ${pin}, compose_dir: /srv }`)
    .join('\n');
  const config = loadConfigText(`environments: { production: {} }\nhosts:\n${hosts}\nprobes: []\n`, 'hostkeys.yaml', { E2E_SSH_KEY: client.private });
  const transports = createTransports(config, pino({ enabled: false }));
  t.teardown(() => transports.close());
  const whoami = (host: string) => transports.ssh.exec(host, 'echo connected', { timeoutMs: 30_000, signal: AbortSignal.timeout(60_000) });
  const logins = () => readFileSync(sshLog, 'utf8').split('Accepted publickey').length - 1;

  for (const name of ['ed25519-sha256', 'rsa-sha256', 'rsa-line', 'ed25519-line']) {
    const result = await whoami(name).catch((err: Error) => err);
    t.notOk(result instanceof Error, `${name}: connects${result instanceof Error ? ` (${result.message})` : ''}`);
    if (!(result instanceof Error)) t.equal(result.stdout, 'connected\n', `${name}: runs the command`);
  }
  t.equal(logins(), 4, 'each of the four logged in once');

  for (const name of ['neither-sha256', 'neither-line']) {
    const err = await whoami(name).then(() => null, (e: unknown) => e);
    t.type(err, SshError, `${name}: refused`);
    const e = err as SshError;
    t.equal(e.kind, "host_key_mismatch", `${name}: as a host key mismatch (${e.message})`);
    t.match(e.message, /possible interception \(man-in-the-middle\), not connecting/);
    t.match(e.message, `Expected ${stranger.fingerprint}`);
    if (name === 'neither-sha256') {
      // A bare fingerprint does not say which type it is: every key the server has was looked at.
      t.match(e.message, ed25519.fingerprint, 'names the ed25519 key presented');
      t.match(e.message, rsa.fingerprint, 'and the RSA key presented');
    }
  }
  t.equal(logins(), 4, 'no login happened on a mismatch');
});
