// Host key pins as operators write them: key lines of every type, known_hosts lines, SHA256 fingerprints, and malformed ones.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { ResolvedHost } from '../../src/config/types.js';
import { hostKeyAlgorithms, nextAlgorithms, readPin } from '../../src/transport/ssh-hostkey.js';
import { tmpDir } from '../helpers/tmp.js';

function host(pin: { host_key?: string; host_key_sha256?: string }): ResolvedHost {
  return { name: 'prod-backend', ...pin } as unknown as ResolvedHost;
}

/** A host key made by OpenSSH's own tool: its public line and the fingerprint `ssh-keygen -l` prints. */
function keygen(dir: string, type: string, bits?: number): { line: string; fingerprint: string } {
  const file = join(dir, `host_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-f', file]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { line: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint };
}

t.test('key lines of each type read to the fingerprint ssh-keygen prints, and pin their algorithm', async (t) => {
  const dir = tmpDir(t);
  const cases: Array<[string, number | undefined, string, string[]]> = [
    ['ed25519', undefined, 'ssh-ed25519', ['ssh-ed25519']],
    ['ecdsa', 256, 'ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
    ['rsa', 2048, 'ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
  ];
  for (const [type, bits, keyType, algorithms] of cases) {
    const key = keygen(dir, type, bits);
    const pin = readPin(host({ host_key: key.line }));
    t.same(pin, { fingerprint: key.fingerprint, keyType }, `${type}: fingerprint and type`);
    t.same(hostKeyAlgorithms(keyType), algorithms, `${type}: the server is asked for that key type only`);
    // As ssh-keyscan prints it / a known_hosts line: the host name(s) first.
    t.same(readPin(host({ host_key: `10.0.0.2 ${key.line}` })), pin, `${type}: a known_hosts line with a host name`);
    t.same(readPin(host({ host_key: `prod-backend,10.0.0.2 ${key.line.split(' ').slice(0, 2).join(' ')}` })), pin, `${type}: several names, no comment`);
    t.same(readPin(host({ host_key: `  ${key.line}\n` })), pin, `${type}: surrounding whitespace`);
  }
});

t.test('a SHA256 pin is taken as written, without base64 padding, and pins no algorithm', async (t) => {
  const key = keygen(tmpDir(t), 'ed25519');
  t.same(readPin(host({ host_key_sha256: key.fingerprint })), { fingerprint: key.fingerprint, keyType: null });
  t.same(readPin(host({ host_key_sha256: `${key.fingerprint}=` })), { fingerprint: key.fingerprint, keyType: null }, 'padding dropped');
  t.equal(hostKeyAlgorithms(null), undefined, 'the server may present any of its keys');
});

t.test('malformed host_key values are errors naming the host, never trusted', async (t) => {
  const key = keygen(tmpDir(t), 'ed25519');
  const [type, blob] = key.line.split(' ') as [string, string];
  const bad = [
    'not a key',
    '',
    type, // type without the key
    `${type} AAAA`, // truncated blob
    `${type} ${blob.slice(0, -8)}`, // blob cut short
    `ssh-ed25519 ${Buffer.from('garbage that is not a key').toString('base64')}`,
    key.fingerprint, // a fingerprint put in host_key by mistake
    `10.0.0.2 ${blob}`, // host name and blob, type missing
  ];
  for (const value of bad) {
    const pin = readPin(host({ host_key: value }));
    t.type(pin, Error, `${JSON.stringify(value.slice(0, 40))} is refused`);
    t.equal((pin as Error).message, 'host prod-backend: host_key is not a public key line like "ssh-ed25519 AAAAC3Nz…"');
  }
  const none = readPin(host({}));
  t.type(none, Error);
  t.equal((none as Error).message, 'host prod-backend has no pinned host key (host_key or host_key_sha256)');
});

t.test('after a handshake that missed the pin: what the server is asked for next', async (t) => {
  const bare = { fingerprint: 'SHA256:x', keyType: null };
  const noKey = 'Handshake failed: no matching host key format';
  t.same(nextAlgorithms(bare, undefined, ['ssh-ed25519'], true, 'Host denied'), ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'], 'a fingerprint: every other type');
  t.same(nextAlgorithms(bare, ['ecdsa-sha2-nistp256'], ['ssh-ed25519', 'ecdsa-sha2-nistp256'], true, 'Host denied'), ['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  t.same(nextAlgorithms(bare, undefined, ['ssh-ed25519', 'ssh-rsa'], true, 'Host denied'), ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'], 'RSA rules out all three RSA algorithms');
  t.same(nextAlgorithms(bare, ['ssh-rsa'], ['ssh-ed25519'], false, noKey), [], 'no key of the asked types left: give up');
  t.same(nextAlgorithms(bare, undefined, [], false, 'connect ECONNREFUSED'), [], 'a failure before any key is not retried');
  const line = { fingerprint: 'SHA256:y', keyType: 'ecdsa-sha2-nistp256' };
  t.same(nextAlgorithms(line, ['ecdsa-sha2-nistp256'], [], false, noKey), ['ssh-ed25519', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'], 'a key line whose type the server lacks: asked once for the others');
  t.same(nextAlgorithms(line, ['ssh-ed25519'], [], false, noKey), [], 'only once');
  t.same(nextAlgorithms(line, ['ecdsa-sha2-nistp256'], ['ecdsa-sha2-nistp256'], true, 'Host denied'), [], 'a key of the pinned type that is not the pinned key: refused at once');
});
