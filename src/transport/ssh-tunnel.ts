// One local forward: a listener on 127.0.0.1:0 whose connections go through an SSH connection to a fixed destination.
import { type Server, type Socket, createServer } from 'node:net';
import type { Logger } from 'pino';
import type { Client } from 'ssh2';
import type { ResolvedHost } from '../config/types.js';
import { SshError, forwardFailure, tunnelDown } from './ssh-errors.js';

export class LocalTunnel {
  /** The host-level reason the last forward failed, or null (see SshTransport.tunnelError). */
  lastError: SshError | null = null;
  readonly ready: Promise<{ host: string; port: number }>;
  readonly #server: Server = createServer();
  readonly #sockets = new Set<Socket>();

  /**
   * `isAlive` says whether `client` is still the host's live connection: a local connection that
   * arrives after it died is refused at once rather than sent into a dead channel.
   */
  constructor(host: ResolvedHost, client: Client, isAlive: () => boolean, dstHost: string, dstPort: number, log: Logger) {
    const dst = `${dstHost}:${dstPort}`;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.#sockets.delete(socket));
      if (!isAlive()) {
        this.lastError = tunnelDown(host, dst);
        return socket.destroy();
      }
      try {
        client.forwardOut('127.0.0.1', socket.remotePort ?? 0, dstHost, dstPort, (err, stream) => {
          if (err) {
            this.lastError = forwardFailure(host, isAlive(), dst, err as Error & { reason?: number });
            log.warn({ host: host.name, dst }, this.lastError?.message ?? `nothing accepts connections at ${dst} on ${host.name}`);
            return socket.destroy();
          }
          this.lastError = null;
          stream.on('error', () => undefined);
          stream.on('close', () => socket.destroy());
          socket.on('close', () => stream.destroy());
          socket.pipe(stream).pipe(socket);
        });
      } catch {
        // ssh2 throws when the connection is no longer writable: it is going away.
        this.lastError = tunnelDown(host, dst);
        socket.destroy();
      }
    });
    this.#server.on('error', (err) => log.warn({ host: host.name, dst, err: err.message }, 'ssh tunnel listener failed'));
    this.ready = new Promise((resolve, reject) => {
      this.#server.once('error', (err) => reject(new SshError(host.name, 'unavailable', `could not open a local port for the tunnel to ${dst}: ${err.message}`)));
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve({ host: '127.0.0.1', port: typeof address === 'object' && address ? address.port : 0 });
      });
    });
  }

  /** Stops listening and cuts the connections it carries: their SSH connection is gone or dropped. */
  close(): void {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
  }
}
