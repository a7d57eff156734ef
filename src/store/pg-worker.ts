// The PostgreSQL store's worker thread: holds one pg Client per open store and runs batches of SQL for
// the synchronous PostgresStore (via synckit). It knows nothing of vigil's tables beyond migrating them.
import pg from 'pg';
import { runAsWorker } from 'synckit';

export interface Statement {
  text: string;
  values?: unknown[];
}

export type WorkerRequest =
  | { op: 'open'; handle: number; url: string; timeoutMs: number; migrations: readonly string[]; lockKey: readonly [number, number] }
  | { op: 'run'; handle: number; timeoutMs: number; tx: boolean; statements: Statement[] }
  | { op: 'close'; handle: number };

export interface StatementResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
}

export interface WorkerFailure {
  message: string;
  code: string | null;
  /** The server is unreachable, restarting, out of room or gone read-only: the statement itself is fine. */
  unavailable: boolean;
}

export type WorkerReply =
  | { ok: true; results: StatementResult[]; newerSchema?: number }
  | { ok: false; error: WorkerFailure };

// bigint (ms timestamps, ids, counts) as numbers: every value vigil stores is far below 2^53.
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

interface Connection {
  url: string;
  client: pg.Client | null;
}

const connections = new Map<number, Connection>();
const CLOSE_WAIT_MS = 1_000;

/** Network errors, SQLSTATE classes 08 (connection), 53 (out of resources), 57P0x (shutting down), read-only, deadlocks. */
function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) return true;
    if (/^(08|53|57P0)/.test(code) || code === '25006' || code === '40001' || code === '40P01') return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection error|not queryable|timeout|ECONNREFUSED/i.test(message);
}

function failure(err: unknown): WorkerReply {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, error: { message, code: typeof code === 'string' ? code : null, unavailable: isUnavailable(err) } };
}

/** Forgets the client without waiting for it: a hung server must not hold the next call. */
function drop(conn: Connection): void {
  const client = conn.client;
  conn.client = null;
  if (!client) return;
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => undefined);
}

async function connected(conn: Connection, timeoutMs: number): Promise<pg.Client> {
  if (conn.client) return conn.client;
  const client = new pg.Client({ connectionString: conn.url, types, connectionTimeoutMillis: timeoutMs, keepAlive: true, application_name: 'vigil' });
  // A server that goes away between calls: the next call reconnects.
  client.on('error', () => {
    if (conn.client === client) drop(conn);
  });
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => undefined);
    throw err;
  }
  conn.client = client;
  return client;
}

/** Runs `work` on the connection, failing (and dropping the connection) when it takes longer than `timeoutMs`. */
async function within<T>(conn: Connection, timeoutMs: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`PostgreSQL did not answer within ${timeoutMs} ms (timeout)`), { code: 'ETIMEDOUT' })), timeoutMs);
  });
  try {
    return await Promise.race([connected(conn, timeoutMs).then(work), deadline]);
  } catch (err) {
    if (isUnavailable(err)) drop(conn);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function transaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function runAll(client: pg.Client, statements: Statement[]): Promise<StatementResult[]> {
  const results: StatementResult[] = [];
  for (const s of statements) {
    const r = await client.query(s.text, s.values);
    results.push({ rows: r.rows as Array<Record<string, unknown>>, rowCount: r.rowCount ?? 0 });
  }
  return results;
}

/**
 * Brings the schema up to date in one transaction under an advisory lock, so replicas starting
 * together migrate once. Returns the version found when it is newer than this vigil knows.
 */
async function migrate(client: pg.Client, migrations: readonly string[], lockKey: readonly [number, number]): Promise<number | null> {
  return transaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...lockKey]);
    await client.query('CREATE TABLE IF NOT EXISTS vigil_schema (version integer NOT NULL)');
    const found = (await client.query<{ version: number }>('SELECT version FROM vigil_schema')).rows[0]?.version ?? 0;
    if (found > migrations.length) return found;
    for (let version = found; version < migrations.length; version++) await client.query(migrations[version] as string);
    if (found === 0) await client.query('INSERT INTO vigil_schema (version) VALUES ($1)', [migrations.length]);
    else if (found < migrations.length) await client.query('UPDATE vigil_schema SET version = $1', [migrations.length]);
    return null;
  });
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.op === 'close') {
    const conn = connections.get(req.handle);
    connections.delete(req.handle);
    const client = conn?.client;
    if (client) {
      // A clean goodbye when the server answers; a server that does not must not hold the daemon's exit.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([client.end().catch(() => undefined), new Promise((done) => (timer = setTimeout(done, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
      drop(conn!);
    }
    return { ok: true, results: [] };
  }
  if (req.op === 'open') {
    const conn: Connection = { url: req.url, client: null };
    connections.set(req.handle, conn);
    const newer = await within(conn, req.timeoutMs, (client) => migrate(client, req.migrations, req.lockKey));
    return newer === null ? { ok: true, results: [] } : { ok: true, results: [], newerSchema: newer };
  }
  const conn = connections.get(req.handle);
  if (!conn) return { ok: false, error: { message: 'the store is closed', code: null, unavailable: false } };
  const results = await within(conn, req.timeoutMs, (client) => (req.tx ? transaction(client, () => runAll(client, req.statements)) : runAll(client, req.statements)));
  return { ok: true, results };
}

runAsWorker(async (req: WorkerRequest): Promise<WorkerReply> => {
  try {
    return await handle(req);
  } catch (err) {
    return failure(err);
  }
});
