// SSH to the fleet's hosts: one pinned, reused connection per host (filled in by the SSH issue).
import type { Logger } from 'pino';
import type { ResolvedHost } from '../config/types.js';

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

  async close(): Promise<void> {
    this.#log.debug({ hosts: Object.keys(this.#hosts).length }, 'ssh transport closed');
  }
}
