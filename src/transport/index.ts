// The long-lived connections probes share: one SSH connection per host, PostgreSQL pools per database.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { PgTransport } from './pg.js';
import { SshTransport } from './ssh.js';

export interface Transports {
  readonly pg: PgTransport;
  readonly ssh: SshTransport;
  /** After a config reload: drop connections to hosts/databases that changed or went away. */
  update(config: Config): void;
  close(): Promise<void>;
}

export function createTransports(config: Config, log: Logger): Transports {
  const ssh = new SshTransport(config.hosts, log.child({ component: 'ssh' }));
  const pg = new PgTransport(config.databases, log.child({ component: 'pg' }), ssh);
  return {
    pg,
    ssh,
    update(next) {
      ssh.update(next.hosts);
      pg.update(next.databases);
    },
    async close() {
      await pg.close();
      await ssh.close();
    },
  };
}
