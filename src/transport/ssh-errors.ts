// Host-level SSH failures in an operator's words: refused, timeout, DNS, authentication, host key mismatch, lost.
import { keyscanLine } from '../config/schema.js';
import type { ResolvedHost } from '../config/types.js';
import { type HostKeyPin, fingerprintOf, keyTypeOf } from './ssh-hostkey.js';

export type SshFailureKind = 'refused' | 'timeout' | 'dns' | 'auth' | 'host_key_mismatch' | 'not_pinned' | 'closed' | 'unavailable';

/** A host-level failure: the host, not the service behind it, is what failed. */
export class SshError extends Error {
  readonly code: string;
  constructor(
    readonly host: string,
    readonly kind: SshFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'SshError';
    this.code = `VIGIL_ERR_SSH_${kind.toUpperCase()}`;
  }
}

/** OpenSSH's "connect failed" (RFC 4254 reason 2): sshd is fine, nothing listens at the destination. */
const OPEN_CONNECT_FAILED = 2;

/** Why a forward failed, when the host is to blame; null when only the destination refused. */
export function forwardFailure(host: ResolvedHost, connectionAlive: boolean, dst: string, err: Error & { reason?: number }): SshError | null {
  if (!connectionAlive) return tunnelDown(host, dst);
  if (err.reason === OPEN_CONNECT_FAILED) return null;
  return new SshError(host.name, 'unavailable', `SSH tunnel through ${host.name} to ${dst} refused by the server: ${err.message}`);
}

export function tunnelDown(host: ResolvedHost, dst: string): SshError {
  return new SshError(host.name, 'closed', `SSH connection to ${target(host)} was lost; the tunnel to ${dst} is down`);
}

export function target(host: ResolvedHost): string {
  return `${host.name} (${host.user}@${host.address}:${host.port})`;
}

/**
 * The config gives no key to check the host against (a host_key that is not a key line): not an
 * interception, and nothing vigil will connect to until a real key is pinned.
 */
export function notPinned(host: ResolvedHost, reason: Error): SshError {
  return new SshError(
    host.name,
    'not_pinned',
    `SSH host key of ${target(host)} is not pinned (${reason.message}): vigil does not connect to a host it cannot verify; ` +
      `get the key from a trusted network with: ${keyscanLine(host.address, host.port)}`,
  );
}

/** Why the private key cannot be used, without a byte of the key or passphrase in the message. */
export function keyProblem(host: ResolvedHost, err: Error): string {
  const source = host.private_key_env !== undefined ? `private_key_env ${host.private_key_env}` : `private_key_file ${host.private_key_file ?? ''}`;
  if (/passphrase|decrypt/i.test(err.message)) {
    return `SSH to ${host.name}: the private key (${source}) is encrypted and ${host.passphrase === null ? 'no passphrase_env is set' : 'the passphrase does not open it'}`;
  }
  return `SSH to ${host.name}: ${source} does not hold a private key vigil can read`;
}

/** `presented`: the host keys the server offered during this connection's handshakes, in order. */
export function classify(host: ResolvedHost, pin: HostKeyPin, presented: Buffer[], err: Error & { level?: string; code?: string }, timeoutMs: number): SshError {
  const at = target(host);
  if (presented.length > 0 && presented.every((key) => fingerprintOf(key) !== pin.fingerprint)) {
    return new SshError(
      host.name,
      'host_key_mismatch',
      `SSH host key of ${at} does not match the pinned key: possible interception (man-in-the-middle), not connecting. ` +
        `Expected ${pin.fingerprint}${pin.keyType ? ` (${pin.keyType})` : ''}, presented ${presented.map((key) => `${fingerprintOf(key)} (${keyTypeOf(key)})`).join(', ')}`,
    );
  }
  if (err.level === 'client-authentication') return new SshError(host.name, 'auth', `SSH to ${at}: authentication rejected (the server did not accept vigil's key for user "${host.user}")`);
  if (err.level === 'client-dns' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new SshError(host.name, 'dns', `SSH to ${at}: the address does not resolve (${err.code ?? 'DNS error'})`);
  if (err.code === 'ECONNREFUSED') return new SshError(host.name, 'refused', `SSH to ${at}: connection refused`);
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') return new SshError(host.name, 'timeout', `SSH to ${at}: no SSH handshake within ${formatSeconds(timeoutMs)}`);
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return new SshError(host.name, 'refused', `SSH to ${at}: no route to host (${err.code})`);
  return new SshError(host.name, 'closed', `SSH to ${at} failed: ${err.message}`);
}

export function formatSeconds(msValue: number): string {
  return msValue < 1000 ? `${msValue}ms` : `${Math.round(msValue / 100) / 10}s`;
}

