// SSH to the fleet's hosts: one pinned, reused connection per host, commands with bounded output, local tunnels.
import type { Logger } from 'pino';
import retry from 'retry';
import ssh2 from 'ssh2';
import type { Client, ServerHostKeyAlgorithm } from 'ssh2';
import type { ResolvedHost } from '../config/types.js';
import type { Finding } from '../types.js';
import { SshError, classify, keyProblem, notPinned, target } from './ssh-errors.js';
import { ChannelOpenError, ConnectionLostError, type ExecOptions, type ExecResult, HostSilentError, runOnChannel } from './ssh-exec.js';
import { fingerprintOf, hostKeyAlgorithms, keyTypeOf, nextAlgorithms, readPin } from './ssh-hostkey.js';
import { LocalTunnel } from './ssh-tunnel.js';
import { untilAborted } from '../until-aborted.js';

export { SshError, type SshFailureKind } from './ssh-errors.js';
export type { ExecOptions, ExecResult } from './ssh-exec.js';
export { MAX_STDOUT_BYTES } from './ssh-exec.js';

/** OpenSSH allows 10 sessions per connection; a few leave room and keep one host from hogging the fleet's probes. */
export const CHANNELS_PER_HOST = 4;
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;
/** Used by tunnel(), whose callers bring a signal but no budget. */
const TUNNEL_CONNECT_TIMEOUT_MS = 10_000;
const MAX_CONNECT_TIMEOUT_MS = 60_000;
/** After a failed attempt the next waits 1 s, 2 s, 4 s … up to 30 s; calls meanwhile get the last error at once. */
const BACKOFF: retry.CreateTimeoutOptions = { factor: 2, minTimeout: 1_000, maxTimeout: 30_000, randomize: true };

interface Conn {
  host: ResolvedHost;
  /** Compared on update(): any change to the host's config (key, address, pin …) means a new connection. */
  config: string;
  client: Client | null;
  connecting: Promise<Client> | null;
  /** The client of the handshake in flight, so that dropping the host can cut it short. */
  handshaking: Client | null;
  failures: number;
  lastError: SshError | null;
  retryAt: number;
  dropped: boolean;
  active: number;
  waiting: Array<() => void>;
  tunnels: Map<string, LocalTunnel>;
}

export class SshTransport {
  #hosts: Record<string, ResolvedHost>;
  readonly #log: Logger;
  readonly #conns = new Map<string, Conn>();

  constructor(hosts: Record<string, ResolvedHost>, log: Logger) {
    this.#hosts = hosts;
    this.#log = log;
  }

  /** Drops the connections (and tunnels) of hosts that changed or went away; the rest stay open. */
  update(hosts: Record<string, ResolvedHost>): void {
    this.#hosts = hosts;
    for (const [name, conn] of this.#conns) {
      const next = hosts[name];
      if (!next || JSON.stringify(next) !== conn.config) this.#drop(conn);
    }
  }

  /**
   * Runs `command` on the host. Throws SshError when the host cannot be reached, the connection is
   * lost mid-command or the host stops answering during it; a command that fails, hangs (on a host
   * that still answers) or floods is an ExecResult, not a throw.
   */
  async exec(host: string, command: string, options: ExecOptions): Promise<ExecResult> {
    const deadline = Date.now() + options.timeoutMs;
    const conn = this.#conn(host);
    const client = await this.#connect(conn, options.timeoutMs, options.signal);
    const started = Date.now();
    const slot = await this.#acquire(conn, deadline, options.signal);
    if (!slot) return { stdout: '', stderr: '', code: null, signal: null, timedOut: true, truncated: false, durationMs: Date.now() - started };
    try {
      return await runOnChannel(client, command, deadline, options.signal, options);
    } catch (err) {
      if (err instanceof ConnectionLostError) throw new SshError(host, 'closed', `SSH connection to ${target(conn.host)} was lost while running a command`);
      if (err instanceof ChannelOpenError) throw new SshError(host, 'unavailable', `SSH to ${target(conn.host)}: the server refused to run a command (${err.message})`);
      if (err instanceof HostSilentError) {
        // The connection is dead in all but name: the next call must reconnect, not wait on it again.
        this.#closed(conn, client);
        client.destroy();
        throw new SshError(host, 'timeout', `SSH to ${target(conn.host)}: the host stopped answering while running a command (${err.message})`);
      }
      throw err;
    } finally {
      this.#release(conn);
    }
  }

  /**
   * A local 127.0.0.1 port forwarded through the host's SSH connection to dstHost:dstPort. The
   * listener lives as long as the connection; after a reconnect a new call gives a new port.
   * Throws SshError when the host cannot be reached.
   */
  async tunnel(host: string, dstHost: string, dstPort: number, signal: AbortSignal): Promise<{ host: string; port: number }> {
    const conn = this.#conn(host);
    const client = await this.#connect(conn, TUNNEL_CONNECT_TIMEOUT_MS, signal);
    const key = `${dstHost}:${dstPort}`;
    let tunnel = conn.tunnels.get(key);
    if (!tunnel) {
      tunnel = new LocalTunnel(conn.host, client, () => conn.client === client, dstHost, dstPort, this.#log);
      conn.tunnels.set(key, tunnel);
      tunnel.ready.catch(() => conn.tunnels.delete(key));
    }
    return tunnel.ready;
  }

  /**
   * The host-level reason the last connection through this tunnel was not forwarded (the SSH
   * connection was lost, sshd refused to forward), or null, also when only the destination refused:
   * a database probe whose connection through the tunnel fails asks this before blaming the database.
   */
  tunnelError(host: string, dstHost: string, dstPort: number): SshError | null {
    return this.#conns.get(host)?.tunnels.get(`${dstHost}:${dstPort}`)?.lastError ?? null;
  }

  /** The host's config (compose_dir, docker …) as the transport knows it, for building commands. */
  hostConfig(host: string): ResolvedHost | undefined {
    return this.#hosts[host];
  }

  /** The `host:<name>` reachability finding: ok when `error` is null. */
  hostFinding(host: string, error: SshError | null): Finding {
    const h = this.#hosts[host];
    const severity = h?.unreachable_severity;
    return error === null
      ? { key: `host:${host}`, ok: true, message: `${host} reachable over SSH${h ? ` (${h.address}:${h.port})` : ''}` }
      : { key: `host:${host}`, ok: false, ...(severity ? { severity } : {}), message: error.message, code: error.code };
  }

  async close(): Promise<void> {
    const closing = [...this.#conns.values()].map((conn) => this.#drop(conn));
    await Promise.all(closing);
    this.#log.debug({ hosts: closing.length }, 'ssh transport closed');
  }

  #conn(name: string): Conn {
    const host = this.#hosts[name];
    if (!host) throw new SshError(name, 'unavailable', `no host named "${name}" in the config`);
    let conn = this.#conns.get(name);
    if (!conn) {
      conn = { host, config: JSON.stringify(host), client: null, connecting: null, handshaking: null, failures: 0, lastError: null, retryAt: 0, dropped: false, active: 0, waiting: [], tunnels: new Map() };
      this.#conns.set(name, conn);
    }
    return conn;
  }

  async #connect(conn: Conn, timeoutMs: number, signal: AbortSignal): Promise<Client> {
    if (conn.client) return conn.client;
    if (!conn.connecting) {
      if (conn.lastError && Date.now() < conn.retryAt) throw conn.lastError;
      conn.connecting = this.#open(conn, Math.min(Math.max(timeoutMs, 1), MAX_CONNECT_TIMEOUT_MS)).finally(() => {
        conn.connecting = null;
      });
      // A caller that gave up must not leave the shared attempt's rejection unhandled.
      conn.connecting.catch(() => undefined);
    }
    return untilAborted(conn.connecting, signal, () => new SshError(conn.host.name, 'timeout', `SSH to ${target(conn.host)}: no connection within the probe's timeout`));
  }

  #open(conn: Conn, timeoutMs: number): Promise<Client> {
    const { host } = conn;
    const deadline = Date.now() + timeoutMs;
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      /** The handshake that counts: a later one (asking for another key type) supersedes it. */
      let client: Client | null = null;
      /** Every host key the server presented across this connection's handshakes. */
      const presented: Buffer[] = [];
      const fail = (err: SshError) => {
        if (settled) return;
        settled = true;
        if (client && conn.handshaking === client) conn.handshaking = null;
        conn.failures += 1;
        conn.lastError = err;
        conn.retryAt = Date.now() + retry.createTimeout(conn.failures - 1, BACKOFF);
        const level = err.kind === 'host_key_mismatch' || err.kind === 'not_pinned' ? 'error' : 'warn';
        this.#log[level]({ host: host.name, kind: err.kind, code: err.code, retryInMs: conn.retryAt - Date.now() }, err.message);
        client?.end();
        reject(err);
      };
      const pin = readPin(host);
      if (pin instanceof Error) return fail(notPinned(host, pin));
      const key = ssh2.utils.parseKey(host.privateKey ?? '', host.passphrase ?? undefined);
      if (key instanceof Error) return fail(new SshError(host.name, 'auth', keyProblem(host, key)));

      const attempt = (algorithms: string[] | undefined): void => {
        const current = new ssh2.Client();
        client = current;
        conn.handshaking = current;
        let mismatched = false;
        current.on('ready', () => {
          settled = true;
          if (conn.handshaking === current) conn.handshaking = null;
          if (conn.dropped) {
            current.end();
            return reject(new SshError(host.name, 'closed', `host ${host.name} was removed or changed while connecting`));
          }
          conn.client = current;
          conn.failures = 0;
          conn.lastError = null;
          this.#log.info({ host: host.name, address: host.address, port: host.port }, 'ssh connected');
          resolve(current);
        });
        current.on('error', (err: Error & { level?: string; code?: string }) => {
          if (settled) return this.#log.warn({ host: host.name, level: err.level, code: err.code }, `ssh connection to ${host.name} failed: ${err.message}`);
          if (client !== current) return;
          const others = nextAlgorithms(pin, algorithms, presented.map(keyTypeOf), mismatched, err.message);
          if (others.length > 0 && Date.now() < deadline && !conn.dropped) {
            current.end();
            return attempt(others);
          }
          fail(classify(host, pin, presented, err, timeoutMs));
        });
        current.on('close', () => {
          if (client === current) fail(new SshError(host.name, 'closed', `SSH to ${target(host)}: the server closed the connection during the handshake`));
          this.#closed(conn, current);
        });
        try {
          current.connect({
            host: host.address,
            port: host.port,
            username: host.user,
            privateKey: host.privateKey ?? '',
            ...(host.passphrase !== null ? { passphrase: host.passphrase } : {}),
            readyTimeout: Math.max(1, deadline - Date.now()),
            keepaliveInterval: KEEPALIVE_INTERVAL_MS,
            keepaliveCountMax: KEEPALIVE_COUNT_MAX,
            ...(algorithms ? { algorithms: { serverHostKey: algorithms as ServerHostKeyAlgorithm[] } } : {}),
            // Never connected through on a mismatch: returning false aborts the handshake before authentication.
            hostVerifier: (raw: Buffer) => {
              const hostKey = Buffer.from(raw);
              presented.push(hostKey);
              mismatched = fingerprintOf(hostKey) !== pin.fingerprint;
              return !mismatched;
            },
          });
          // Commands are a handful of small packets each way; Nagle's delay would dominate them.
          current.setNoDelay(true);
        } catch (err) {
          fail(new SshError(host.name, 'unavailable', `SSH to ${target(host)} could not start: ${(err as Error).message}`));
        }
      };
      attempt(hostKeyAlgorithms(pin.keyType));
    });
  }

  /** The connection is gone: forget it and its tunnels, so the next call reconnects. */
  #closed(conn: Conn, client: Client): void {
    if (conn.client !== client) return;
    conn.client = null;
    this.#log.info({ host: conn.host.name }, 'ssh connection closed');
    this.#closeTunnels(conn);
  }

  async #drop(conn: Conn): Promise<void> {
    conn.dropped = true;
    if (this.#conns.get(conn.host.name) === conn) this.#conns.delete(conn.host.name);
    this.#closeTunnels(conn);
    conn.handshaking?.destroy();
    const client = conn.client;
    conn.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  #closeTunnels(conn: Conn): void {
    for (const tunnel of conn.tunnels.values()) tunnel.close();
    conn.tunnels.clear();
  }

  #acquire(conn: Conn, deadline: number, signal: AbortSignal): Promise<boolean> {
    if (conn.active < CHANNELS_PER_HOST) {
      conn.active += 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const give = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', giveUp);
        conn.active += 1;
        resolve(true);
      };
      const giveUp = () => {
        clearTimeout(timer);
        conn.waiting = conn.waiting.filter((w) => w !== give);
        resolve(false);
      };
      const timer = setTimeout(giveUp, Math.max(0, deadline - Date.now()));
      signal.addEventListener('abort', giveUp, { once: true });
      conn.waiting.push(give);
    });
  }

  #release(conn: Conn): void {
    conn.active -= 1;
    conn.waiting.shift()?.();
  }
}
