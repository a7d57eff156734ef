// Host key pinning for SSH: the pinned key or fingerprint of a host, and whether a presented key matches it.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

export interface HostKeyPin {
  /** `SHA256:…` as `ssh-keygen -lf` prints it; what messages show. */
  fingerprint: string;
  /** Key type of a pinned `host_key` line (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa), else null. */
  keyType: string | null;
}

/** The fingerprint OpenSSH shows for a raw public key blob: base64 of its SHA-256, without padding. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written at the start of a raw public key blob (an SSH string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return length > 0 && length < 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/**
 * The pin of a `host_key` line written as `ssh-keygen`/`ssh-keyscan` print it, with or without the
 * leading host names of a known_hosts line; null when the line holds no public key. Config validation
 * refuses such a line, so that it is caught by `vigil validate` and not at the first connection.
 */
export function parseHostKeyLine(line: string): HostKeyPin | null {
  const words = line.trim().split(/\s+/);
  // A known_hosts line starts with the host name; the key proper starts at its type.
  const start = words.findIndex((w) => /^(ssh-|ecdsa-|sk-)/.test(w));
  if (start < 0) return null;
  const parsed = ssh2.utils.parseKey(words.slice(start, start + 2).join(' '));
  if (parsed instanceof Error || Array.isArray(parsed)) return null;
  return { fingerprint: fingerprintOf(parsed.getPublicSSH()), keyType: parsed.type };
}

/**
 * Reads the host's pin. Returns an Error (no secret in it) when the config holds no usable pin:
 * vigil never trusts a host key on first use.
 */
export function readPin(host: { name: string; host_key?: string | undefined; host_key_sha256?: string | undefined }): HostKeyPin | Error {
  if (host.host_key_sha256 !== undefined) return { fingerprint: host.host_key_sha256.replace(/=+$/, ''), keyType: null };
  if (host.host_key === undefined) return new Error(`host ${host.name} has no pinned host key (host_key or host_key_sha256)`);
  return parseHostKeyLine(host.host_key) ?? new Error(`host ${host.name}: host_key is not a public key line like "ssh-ed25519 AAAAC3Nz…"`);
}

/** Every host key algorithm vigil accepts, in the order it asks for them (ssh2's default order). */
const ALL_HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host key algorithms to offer so that the server presents the pinned key and not another of its keys. */
export function hostKeyAlgorithms(keyType: string | null): string[] | undefined {
  if (keyType === null) return undefined;
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

/** The algorithms left once keys of these types are ruled out. */
function algorithmsWithout(types: string[]): string[] {
  const excluded = new Set(types.flatMap((type) => hostKeyAlgorithms(type) ?? []));
  return ALL_HOST_KEY_ALGORITHMS.filter((algorithm) => !excluded.has(algorithm));
}

/** ssh2's error when the server holds no host key of the algorithms asked for. */
const NO_HOST_KEY_OF_TYPE = /no matching host key format/;

/**
 * What to ask the server for after a handshake that did not reach the pinned key, or [] to give up.
 * A bare fingerprint names no key type, so a server with several host keys is asked for each of its
 * types in turn until it presents the pinned key. A key line whose type the server does not have is
 * asked once for the others, so that the refusal names the key the server holds instead.
 * `asked`: this handshake's algorithms; `presentedTypes`: the types of every key presented so far;
 * `mismatched`: this handshake presented a key that is not the pinned one.
 */
export function nextAlgorithms(pin: HostKeyPin, asked: string[] | undefined, presentedTypes: string[], mismatched: boolean, error: string): string[] {
  if (pin.keyType === null) return mismatched ? algorithmsWithout(presentedTypes) : [];
  const pinnedOnly = hostKeyAlgorithms(pin.keyType);
  const firstTry = asked !== undefined && pinnedOnly !== undefined && asked.length === pinnedOnly.length && asked.every((a, i) => a === pinnedOnly[i]);
  return firstTry && presentedTypes.length === 0 && NO_HOST_KEY_OF_TYPE.test(error) ? algorithmsWithout([pin.keyType]) : [];
}
