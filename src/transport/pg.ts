// PostgreSQL connections for the database probes: a fresh connection per readiness check, a small pool per database for the rest.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ResolvedDatabase } from '../config/types.js';
import type { SshTransport } from './ssh.js';

/** node-postgres, loaded on the first database run: a vigil with no database need not hold its memory. */
let pgLib: typeof pg | null = null;
async function loadPg(): Promise<typeof pg> {
  return (pgLib ??= (await import('pg')).default);
}

export const APPLICATION_NAME = 'vigil';
/** Connections a database's pool may hold: the three pooled probe types rarely run at once. */
const POOL_SIZE = 2;
const POOL_IDLE_MS = 60_000;

export type PgFailureKind =
  | 'no_url' | 'bad_url' | 'refused' | 'unreachable' | 'dns' | 'timeout' | 'auth'
  | 'too_many_clients' | 'role_limit' | 'starting_up' | 'closed' | 'rejected' | 'query';

/** A database-level failure in an operator's words; never holds the URL or the password. */
export class PgError extends Error {
  readonly code: string;
  constructor(
    readonly database: string,
    readonly kind: PgFailureKind,
    message: string,
    readonly sqlstate: string | null = null,
  ) {
    super(message);
    this.name = 'PgError';
    this.code = `VIGIL_ERR_PG_${kind.toUpperCase()}`;
  }
}

export interface PgCall {
  /** The probe's timeout: connect timeout, statement_timeout and the client-side deadline. */
  timeoutMs: number;
  signal: AbortSignal;
}

interface Endpoint {
  host: string;
  port: number;
  viaTunnel: boolean;
}

interface PoolEntry {
  pool: pg.Pool;
  endpointKey: string;
  url: string | null;
  via: string | undefined;
  /** statement_timeout each pooled connection currently has, so it is SET only when it changes. */
  statementTimeouts: WeakMap<pg.PoolClient, number>;
}

class DeadlineError extends Error {}

export class PgTransport {
  #databases: Record<string, ResolvedDatabase>;
  readonly #log: Logger;
  /** Carries `via` databases through their host's SSH connection. */
  readonly ssh: SshTransport;
  readonly #pools = new Map<string, PoolEntry>();
  #closed = false;

  constructor(databases: Record<string, ResolvedDatabase>, log: Logger, ssh: SshTransport) {
    this.#databases = databases;
    this.#log = log;
    this.ssh = ssh;
  }

  update(databases: Record<string, ResolvedDatabase>): void {
    this.#databases = databases;
    for (const [name, entry] of this.#pools) {
      const db = databases[name];
      if (!db || db.url !== entry.url || db.via !== entry.via) this.#dropPool(name);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.keys()].map((name) => this.#dropPool(name)));
  }

  database(name: string): ResolvedDatabase | undefined {
    return this.#databases[name];
  }

  /** "10.0.0.2:5432/app" (plus "via host"): where the database is, for messages; never the credentials. */
  target(name: string): string {
    const db = this.#databases[name];
    if (!db?.url) return name;
    const parsed = parseUrl(db.url);
    if (!parsed) return name;
    const via = db.via ? ` via ${db.via}` : '';
    return `${parsed.host}:${parsed.port}${parsed.database ? `/${parsed.database}` : ''}${via}`;
  }

  /**
   * pg_ready: a fresh connection and `SELECT 1`, because readiness is whether the server accepts a
   * new client now — a pooled connection would hide max_connections exhaustion and restarts.
   */
  async ping(name: string, call: PgCall): Promise<void> {
    const db = this.#require(name);
    const endpoint = await this.#endpoint(db, call.signal);
    const { Client } = await loadPg();
    const client = new Client(clientConfig(db, endpoint, call.timeoutMs));
    client.on('error', (err) => this.#log.debug({ database: name, error: scrub(db, errText(err)) }, 'readiness connection error'));
    let phase: 'connect' | 'query' = 'connect';
    try {
      await withDeadline(call, async () => {
        await client.connect();
        phase = 'query';
        await client.query('SELECT 1');
      });
    } catch (err) {
      throw this.#failure(db, err, phase, call.timeoutMs);
    } finally {
      // end() destroys the socket when a query is stuck or the connection never finished.
      client.end().catch(() => undefined);
    }
  }

  /** One query on the database's shared pool, bounded by the call's timeout on both sides. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, sql: string, values: unknown[], call: PgCall): Promise<pg.QueryResult<R>> {
    const db = this.#require(name);
    const endpoint = await this.#endpoint(db, call.signal);
    const entry = this.#pool(db, endpoint, call.timeoutMs, await loadPg());
    let phase: 'connect' | 'query' = 'connect';
    let client: pg.PoolClient | null = null;
    const acquiring = entry.pool.connect();
    try {
      client = await withDeadline(call, () => acquiring);
      phase = 'query';
      const c = client;
      return await withDeadline(call, async () => {
        if (entry.statementTimeouts.get(c) !== call.timeoutMs) {
          await c.query(`SET statement_timeout = ${Math.max(1, Math.round(call.timeoutMs))}`);
          entry.statementTimeouts.set(c, call.timeoutMs);
        }
        return c.query<R>(sql, values);
      });
    } catch (err) {
      if (client === null) {
        // Given up while waiting: the connection may still arrive, and must go straight back.
        acquiring.then((late) => late.release(true), () => undefined);
      } else {
        // A timed-out or failed connection may be mid-query: destroy it rather than reuse it.
        client.release(true);
        client = null;
      }
      throw this.#failure(db, err, phase, call.timeoutMs);
    } finally {
      client?.release();
    }
  }

  /**
   * A connect failure through a tunnel whose SSH side just broke is the host's failure, not the
   * database's: the tunnel remembers why it could not forward, and that SshError wins.
   */
  #failure(db: ResolvedDatabase, err: unknown, phase: 'connect' | 'query', timeoutMs: number): Error {
    if (phase === 'connect' && db.via) {
      const parsed = parseUrl(db.url!)!;
      const tunnelError = this.ssh.tunnelError(db.via, parsed.host, parsed.port);
      if (tunnelError) return tunnelError;
    }
    return classify(db, err, phase, timeoutMs, this.target(db.name));
  }

  #require(name: string): ResolvedDatabase {
    if (this.#closed) throw new PgError(name, 'closed', 'vigil is shutting down');
    const db = this.#databases[name];
    if (!db) throw new PgError(name, 'bad_url', `database "${name}" is not in the config`);
    if (!db.url) throw new PgError(name, 'no_url', `no connection URL for database "${name}" (${db.url_env ? `$${db.url_env} is empty` : 'its url_file is empty'})`);
    if (!parseUrl(db.url)) throw new PgError(name, 'bad_url', `the connection URL of database "${name}" is not a postgres:// URL`);
    return db;
  }

  /** Where to connect: the URL's host, or a local port forwarded through `via` (SshError propagates). */
  async #endpoint(db: ResolvedDatabase, signal: AbortSignal): Promise<Endpoint> {
    const parsed = parseUrl(db.url!)!;
    if (!db.via) return { host: parsed.host, port: parsed.port, viaTunnel: false };
    const local = await this.ssh.tunnel(db.via, parsed.host, parsed.port, signal);
    return { host: local.host, port: local.port, viaTunnel: true };
  }

  #pool(db: ResolvedDatabase, endpoint: Endpoint, timeoutMs: number, lib: typeof pg): PoolEntry {
    const key = `${endpoint.host}:${endpoint.port}`;
    const existing = this.#pools.get(db.name);
    if (existing && existing.endpointKey === key) return existing;
    // A new tunnel port means the old pool points at a dead forward.
    if (existing) this.#dropPool(db.name);
    const pool = new lib.Pool({ ...clientConfig(db, endpoint, timeoutMs), max: POOL_SIZE, idleTimeoutMillis: POOL_IDLE_MS, allowExitOnIdle: true });
    const entry: PoolEntry = { pool, endpointKey: key, url: db.url, via: db.via, statementTimeouts: new WeakMap() };
    // An idle connection dying (server restart) is reported on the pool; unhandled, it kills vigil.
    pool.on('error', (err) => this.#log.debug({ database: db.name, error: scrub(db, errText(err)) }, 'idle pooled connection lost'));
    pool.on('connect', (client) => {
      entry.statementTimeouts.set(client, timeoutMs);
      client.on('error', (err) => this.#log.debug({ database: db.name, error: scrub(db, errText(err)) }, 'pooled connection error'));
    });
    this.#pools.set(db.name, entry);
    return entry;
  }

  async #dropPool(name: string): Promise<void> {
    const entry = this.#pools.get(name);
    if (!entry) return;
    this.#pools.delete(name);
    await entry.pool.end().catch(() => undefined);
  }
}

interface ParsedUrl {
  host: string;
  port: number;
  database: string;
  user: string;
}

function parseUrl(url: string): ParsedUrl | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return null;
  const host = u.searchParams.get('host') ?? (u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost');
  const port = Number(u.searchParams.get('port') ?? (u.port || 5432));
  return { host, port, database: decodeURIComponent(u.pathname.slice(1)), user: decodeURIComponent(u.username) };
}

/** The URL with vigil's own session settings winning over any in the URL, and the tunnel's endpoint. */
function clientConfig(db: ResolvedDatabase, endpoint: Endpoint, timeoutMs: number): pg.ClientConfig {
  const u = new URL(db.url!);
  for (const key of ['application_name', 'statement_timeout', 'connect_timeout']) u.searchParams.delete(key);
  if (endpoint.viaTunnel) {
    u.searchParams.delete('host');
    u.searchParams.delete('port');
    u.hostname = endpoint.host;
    u.port = String(endpoint.port);
  }
  const ms = Math.max(1, Math.round(timeoutMs));
  return {
    connectionString: u.toString(),
    application_name: APPLICATION_NAME,
    statement_timeout: ms,
    connectionTimeoutMillis: ms,
    // Defence in depth for pg_query's free SQL; a URL that sets `options` keeps its own.
    options: '-c default_transaction_read_only=on',
    keepAlive: true,
  };
}

/** Runs `work` until it settles, the call's timeout passes or its signal aborts (DeadlineError). */
async function withDeadline<T>(call: PgCall, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new DeadlineError('deadline'));
    timer = setTimeout(onAbort, call.timeoutMs);
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
  });
  const running = work();
  running.catch(() => undefined); // settles after a deadline win; nobody else is listening then
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
    call.signal.removeEventListener('abort', onAbort);
  }
}

const AUTH_STATES = new Set(['28P01', '28000']);

/** Maps whatever pg or the socket threw to the failure an operator acts on. */
function classify(db: ResolvedDatabase, err: unknown, phase: 'connect' | 'query', timeoutMs: number, target: string): PgError {
  const name = db.name;
  const within = formatMs(timeoutMs);
  if (err instanceof PgError) return err;
  if (err instanceof DeadlineError || /timeout expired|timeout exceeded|due to connection timeout/i.test(errText(err))) {
    return phase === 'connect'
      ? new PgError(name, 'timeout', `no answer from ${target} within ${within} (connecting)`)
      : new PgError(name, 'timeout', `query did not finish within ${within}`);
  }
  if (pgLib !== null && err instanceof pgLib.DatabaseError) {
    const state = err.code ?? '';
    const said = scrub(db, err.message);
    const user = parseUrl(db.url!)?.user || 'its user';
    if (AUTH_STATES.has(state)) return new PgError(name, 'auth', `vigil cannot authenticate as "${user}": ${said}`, state);
    // 53300 also means "too many connections for role": vigil's own limit, not a full server.
    if (state === '53300' && /too many connections for role/i.test(said)) return new PgError(name, 'role_limit', `vigil's role "${user}" is at its CONNECTION LIMIT (${said})`, state);
    if (state === '53300') return new PgError(name, 'too_many_clients', `refusing connections: too many clients (${said})`, state);
    if (state === '57P03') return new PgError(name, 'starting_up', `not accepting connections yet: ${said} (57P03)`, state);
    if (state === '57014') return new PgError(name, 'timeout', `query cancelled by statement_timeout after ${within}`, state);
    if (state === '57P01' || state === '57P02') return new PgError(name, 'closed', `the server ended the connection: ${said}`, state);
    return new PgError(name, phase === 'connect' ? 'rejected' : 'query', `${said} (SQLSTATE ${state})`, state);
  }
  const code = systemCode(err);
  if (code === 'ECONNREFUSED') return new PgError(name, 'refused', `connection refused by ${target}: nothing is listening (PostgreSQL down or restarting)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PgError(name, 'dns', `cannot resolve the host of ${target}`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return new PgError(name, 'unreachable', `${target} is unreachable (${code})`);
  if (code === 'ECONNRESET' || /terminated unexpectedly|Connection terminated/i.test(errText(err))) {
    return new PgError(name, 'closed', `${target} closed the connection ${phase === 'connect' ? 'before it was ready' : 'mid-query'}`);
  }
  if (/password must be a string|SASL/i.test(errText(err))) {
    return new PgError(name, 'auth', `vigil cannot authenticate: ${scrub(db, errText(err))}`);
  }
  return new PgError(name, phase === 'connect' ? 'rejected' : 'query', scrub(db, errText(err)));
}

function systemCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] } | null;
  if (typeof e?.code === 'string') return e.code;
  // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
  if (Array.isArray(e?.errors)) return systemCode(e.errors[0]);
  return undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Removes the URL and its password (raw and decoded) from text that pg or Node produced. */
export function scrub(db: Pick<ResolvedDatabase, 'url'>, text: string): string {
  let out = text;
  const url = db.url;
  if (url) {
    const secrets = [url];
    try {
      const password = new URL(url).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // not a URL: only the whole string is known to be secret
    }
    for (const s of secrets.filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join('[redacted]');
  }
  return out.replace(/postgres(?:ql)?:\/\/\S+/gi, 'postgres://[redacted]');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}
