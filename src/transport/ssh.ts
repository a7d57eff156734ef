// SSH to the fleet's hosts: one pinned, reused connection per host (filled in by the SSH issue).
import type { Logger } from 'pino';
import type { ResolvedHost } from '../config/types.js';
import type { Finding } from '../types.js';

export type SshFailureKind = 'refused' | 'timeout' | 'dns' | 'auth' | 'host_key_mismatch' | 'closed' | 'unavailable';

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

export class SshTransport {
  #hosts: Record<string, ResolvedHost>;
  readonly #log: Logger;

  constructor(hosts: Record<string, ResolvedHost>, log: Logger) {
    this.#hosts = hosts;
    this.#log = log;
  }

  update(hosts: Record<string, ResolvedHost>): void {
    this.#hosts = hosts;
  }

  /**
   * A local 127.0.0.1 port forwarded through the host's SSH connection to dstHost:dstPort.
   * Throws SshError when the host cannot be reached.
   */
  async tunnel(host: string, dstHost: string, dstPort: number, signal: AbortSignal): Promise<{ host: string; port: number }> {
    signal.throwIfAborted();
    throw new SshError(host, 'unavailable', `SSH tunnels are not available yet (to ${dstHost}:${dstPort})`);
  }

  /** The `host:<name>` reachability finding: ok when `error` is null. */
  hostFinding(host: string, error: SshError | null): Finding {
    const severity = this.#hosts[host]?.unreachable_severity;
    return error === null
      ? { key: `host:${host}`, ok: true, message: `${host} reachable over SSH` }
      : { key: `host:${host}`, ok: false, ...(severity ? { severity } : {}), message: error.message };
  }

  async close(): Promise<void> {
    this.#log.debug({ hosts: Object.keys(this.#hosts).length }, 'ssh transport closed');
  }
}
