// The demo's Redis: a small in-process RESP2 responder (the demo must run where no redis-server is installed) that answers what vigil sends and holds the Celery queue's length.
import { createServer, type Server, type Socket } from 'node:net';

export interface DemoRedisOptions {
  /** The password AUTH must present (requirepass). */
  password: string;
  /** Length of each list right now (the `celery` queue follows the timeline). */
  lists: () => ReadonlyMap<string, number>;
}

export interface DemoRedis {
  port: number;
  close(): Promise<void>;
}

const MAXMEMORY = 256 * 1024 * 1024;

/** Starts the responder on 127.0.0.1:0. It answers PING, AUTH, CLIENT SETNAME, SELECT, INFO, LLEN and QUIT. */
export async function startDemoRedis(opts: DemoRedisOptions): Promise<DemoRedis> {
  const sockets = new Set<Socket>();
  const startedAt = Date.now();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let authenticated = false;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseCommand(pending);
        if (parsed === null) return;
        pending = pending.subarray(parsed.used);
        const [name = '', ...args] = parsed.words;
        const command = name.toUpperCase();
        if (command === 'AUTH') {
          authenticated = args.at(-1) === opts.password;
          socket.write(authenticated ? '+OK\r\n' : '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
        } else if (!authenticated) {
          socket.write('-NOAUTH Authentication required.\r\n');
        } else if (command === 'QUIT') {
          socket.end('+OK\r\n');
          return;
        } else {
          socket.write(answer(command, args, opts, startedAt));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(command: string, args: string[], opts: DemoRedisOptions, startedAt: number): string {
  switch (command) {
    case 'PING':
      return '+PONG\r\n';
    case 'CLIENT':
    case 'SELECT':
      return '+OK\r\n';
    case 'LLEN':
      return `:${opts.lists().get(args[0] ?? '') ?? 0}\r\n`;
    case 'INFO':
      return bulk(info(opts, startedAt));
    default:
      return `-ERR unknown command '${command.toLowerCase()}'\r\n`;
  }
}

function info(opts: DemoRedisOptions, startedAt: number): string {
  const tasks = [...opts.lists().values()].reduce((a, b) => a + b, 0);
  const used = 3 * 1024 * 1024 + tasks * 2048;
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)}M`;
  return [
    '# Server', 'redis_version:7.0.15', 'redis_mode:standalone', `uptime_in_seconds:${Math.floor((Date.now() - startedAt) / 1000) + 86_400}`,
    '# Clients', 'connected_clients:6', 'blocked_clients:2',
    '# Memory', `used_memory:${used}`, `used_memory_human:${mib(used)}`, `used_memory_peak_human:${mib(used + 1024 * 1024)}`,
    `maxmemory:${MAXMEMORY}`, `maxmemory_human:${mib(MAXMEMORY)}`, 'maxmemory_policy:noeviction',
    '# Persistence', 'rdb_last_bgsave_status:ok', 'aof_enabled:0',
    '# Stats', 'evicted_keys:0', 'rejected_connections:0',
    '# Replication', 'role:master',
    '# Keyspace', `db0:keys=${12 + opts.lists().size},expires=3,avg_ttl=0`,
  ].join('\r\n') + '\r\n';
}

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/** One RESP array of bulk strings from the front of `buf`, or null until it has all arrived. */
function parseCommand(buf: Buffer): { words: string[]; used: number } | null {
  if (buf.length === 0) return null;
  let at = 0;
  const line = (): string | null => {
    const end = buf.indexOf('\r\n', at);
    if (end < 0) return null;
    const text = buf.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  const head = line();
  if (head === null) return null;
  // An inline command ("PING\r\n"), as redis-cli and telnet send.
  if (!head.startsWith('*')) return { words: head.trim().split(/\s+/), used: at };
  const count = Number(head.slice(1));
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const size = line();
    if (size === null) return null;
    const n = Number(size.slice(1));
    if (buf.length < at + n + 2) return null;
    words.push(buf.toString('utf8', at, at + n));
    at += n + 2;
  }
  return { words, used: at };
}
