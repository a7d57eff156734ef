// A real Redis for tests: Debian's redis-server on a free port, data in a temp dir, stopped, paused or slowed on demand.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createClient, type RedisClientType } from 'redis';
import type { HasTeardown } from './tmp.js';
import { tmpDir } from './tmp.js';
import { freePort, waitFor } from './vigil-process.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** The reason Redis tests skip on this machine, or false when redis-server is there. */
export function redisMissing(): string | false {
  return existsSync(REDIS_SERVER) ? false : `${REDIS_SERVER} is not installed (apt-get install redis-server)`;
}

/** node-redis speaking RESP2, as vigil does. */
export type AdminClient = RedisClientType<{}, {}, {}, 2>;

export interface RedisServerOptions {
  password?: string;
  /** maxmemory in bytes (0: no limit). */
  maxmemory?: number;
}

export interface RedisServer {
  port: number;
  /** redis://[:password@]127.0.0.1:port/0 */
  url: string;
  /** A connected client for seeding data (closed at teardown). */
  admin(): Promise<AdminClient>;
  /** SIGTERM, and wait until the process has exited: connections are refused until start(). */
  stop(): Promise<void>;
  /** Starts again on the same port and dir; `slowLoad` makes it load its saved dataset slowly (answering LOADING meanwhile). */
  start(opts?: { slowLoad?: boolean }): Promise<void>;
  /** SIGSTOP: connections are accepted by the kernel but nothing answers. */
  pause(): void;
  resume(): void;
}

export async function startRedis(t: HasTeardown, opts: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = tmpDir(t, 'vigil-redis-');
  const port = await freePort();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  let child: ChildProcess | null = null;
  let paused = false;
  let output = '';
  const clients: AdminClient[] = [];

  const args = (slowLoad: boolean) => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb',
    '--maxmemory', String(opts.maxmemory ?? 0),
    ...(opts.password ? ['--requirepass', opts.password] : []),
    // Loading slowly and answering in between, so a test can meet the LOADING state.
    ...(slowLoad ? ['--key-load-delay', '2000', '--loading-process-events-interval-bytes', '1024'] : []),
  ];

  const server: RedisServer = {
    port,
    url: `redis://${auth}127.0.0.1:${port}/0`,
    async admin() {
      const client = createClient({ url: server.url, RESP: 2, socket: { reconnectStrategy: false } }) as unknown as AdminClient;
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = null;
      if (paused) server.resume();
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await exited;
    },
    async start(startOpts = {}) {
      if (child) return;
      output = '';
      const proc = spawn(REDIS_SERVER, args(startOpts.slowLoad === true), { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      proc.once('exit', () => {
        if (child === proc) child = null;
      });
      // Listening is logged before a dataset is loaded, so a slow load can be met while it runs.
      await waitFor(() => /Ready to accept connections|Loading RDB/.test(output) || child === null, 10_000, () => `redis-server did not start:\n${output}`);
      if (child === null) throw new Error(`redis-server exited at start:\n${output}`);
    },
    pause() {
      if (!child || paused) return;
      paused = true;
      child.kill('SIGSTOP');
    },
    resume() {
      if (!child || !paused) return;
      paused = false;
      child.kill('SIGCONT');
    },
  };
  t.teardown(async () => {
    for (const c of clients) if (c.isOpen) c.destroy();
    await server.stop();
  });
  await server.start();
  return server;
}
