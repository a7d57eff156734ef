// PostgreSQL connections for the database probes (filled in by the PostgreSQL issue).
import type { Logger } from 'pino';
import type { ResolvedDatabase } from '../config/types.js';
import type { SshTransport } from './ssh.js';

export class PgTransport {
  #databases: Record<string, ResolvedDatabase>;
  readonly #log: Logger;
  /** Carries `via` databases through their host's SSH connection. */
  readonly ssh: SshTransport;

  constructor(databases: Record<string, ResolvedDatabase>, log: Logger, ssh: SshTransport) {
    this.#databases = databases;
    this.#log = log;
    this.ssh = ssh;
  }

  update(databases: Record<string, ResolvedDatabase>): void {
    this.#databases = databases;
  }

  async close(): Promise<void> {
    this.#log.debug({ databases: Object.keys(this.#databases).length }, 'pg transport closed');
  }
}
