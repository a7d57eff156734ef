// Leadership among replicas: a PostgreSQL advisory lock held on a session of its own. The lock lives
// exactly as long as that session, so a leader that dies, or whose session dies, lets another take it.
import pg from 'pg';
import type { Logger } from 'pino';

/** The advisory lock every replica of a store contends for: ("vigl", 100), apart from the store's own keys. */
export const LEADER_LOCK_KEY: readonly [number, number] = [0x7669676c, 100];

export interface LeadershipOptions {
  url: string;
  replica: string;
  /** How often a standby tries for the lock and a leader proves its session still answers. */
  intervalMs: number;
  log: Logger;
  /** Called on every change, at once: true when this replica now leads, false when it stopped. */
  onChange: (leading: boolean) => void;
}

export class Leadership {
  readonly #opts: LeadershipOptions;
  #client: pg.Client | null = null;
  #leading = false;
  #busy = false;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #lastProblem = '';

  constructor(opts: LeadershipOptions) {
    this.#opts = opts;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => void this.attempt(), this.#opts.intervalMs);
    this.#timer.unref();
    void this.attempt();
  }

  /** One round: connect if needed, then take the lock (standby) or prove the session (leader). */
  async attempt(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    let client = this.#client;
    try {
      if (!client) client = await this.#connect();
      if (this.#leading) {
        await client.query('SELECT 1');
      } else {
        const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...LEADER_LOCK_KEY]);
        if (r.rows[0]?.locked && this.#client === client && !this.#stopped) this.#set(true);
      }
      this.#lastProblem = '';
    } catch (err) {
      if (client) this.#drop(client, err);
      else this.#problem(err);
    } finally {
      this.#busy = false;
    }
  }

  async #connect(): Promise<pg.Client> {
    const { url, replica, intervalMs } = this.#opts;
    const client = new pg.Client({
      connectionString: url,
      application_name: `vigil ${replica} leadership`.slice(0, 63),
      keepAlive: true,
      // A busy server or machine may take a while to answer; a dead session is noticed sooner, by its socket.
      connectionTimeoutMillis: Math.max(2 * intervalMs, 5_000),
      query_timeout: Math.max(2 * intervalMs, 2_000),
    });
    client.on('error', (err) => this.#drop(client, err));
    client.on('end', () => this.#drop(client, null));
    try {
      await client.connect();
    } catch (err) {
      client.removeAllListeners('end');
      throw err;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      throw new Error('stopped');
    }
    this.#client = client;
    return client;
  }

  /** The session is gone or does not answer: whatever it held is lost with it. */
  #drop(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    if (this.#leading) {
      this.#opts.log.warn({ err: err ? { message: (err as Error).message } : undefined, replica: this.#opts.replica }, 'cluster: the leadership session is lost: this replica stops leading');
      this.#set(false);
    } else if (err) this.#problem(err);
  }

  #problem(err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    if (message === this.#lastProblem || this.#stopped) return;
    this.#lastProblem = message;
    this.#opts.log.warn({ err: { message } }, 'cluster: cannot reach PostgreSQL to contend for leadership; trying again every interval');
  }

  #set(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    if (leading) this.#opts.log.info({ replica: this.#opts.replica }, `cluster: replica ${this.#opts.replica} now leads`);
    this.#opts.onChange(leading);
  }

  /** Gives up the lock (by closing its session) and stops trying; no onChange is called. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#leading = false;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }
}
