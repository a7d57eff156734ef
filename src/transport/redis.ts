// Redis for the redis probe and triage: a fresh connection per run (through a host's SSH tunnel when `via` is set), bounded by the run's timeout and signal, always closed.
import type { SshTransport } from './ssh.js';

/** node-redis, loaded on the first Redis run: most vigils watch no Redis and need not hold its memory. */
let redisLib: typeof import('redis') | null = null;

/** An error Redis answered with (WRONGTYPE, NOAUTH, …), as opposed to a failure to reach it. */
export function isErrorReply(err: unknown): err is Error {
  return redisLib !== null && err instanceof redisLib.ErrorReply;
}

export type RedisFailureKind = 'no_url' | 'bad_url' | 'refused' | 'unreachable' | 'dns' | 'timeout' | 'auth' | 'loading' | 'closed' | 'rejected';

/** A Redis failure in an operator's words; never holds the URL or the password. */
export class RedisError extends Error {
  readonly code: string;
  constructor(
    readonly kind: RedisFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'RedisError';
    this.code = `VIGIL_ERR_REDIS_${kind.toUpperCase()}`;
  }
}

export interface RedisTarget {
  /** The redis:// or rediss:// URL (may hold a password), or null when its secret is empty. */
  url: string | null;
  /** Host whose SSH connection tunnels to the server. */
  via?: string | undefined;
}

export interface RedisCall {
  timeoutMs: number;
  signal: AbortSignal;
}

/** The few commands vigil sends: reads only. */
export interface RedisSession {
  ping(): Promise<string>;
  info(): Promise<string>;
  llen(key: string): Promise<number>;
}

interface ParsedUrl {
  tls: boolean;
  host: string;
  port: number;
  db: string;
}

export function parseRedisUrl(url: string): ParsedUrl | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return null;
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return null;
  return { tls: u.protocol === 'rediss:', host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost', port: Number(u.port || 6379), db: db || '0' };
}

/** "10.0.0.2:6379/0 via prod-backend": where the server is, for messages; never the credentials. */
export function redisTarget(target: RedisTarget): string {
  const parsed = target.url ? parseRedisUrl(target.url) : null;
  if (!parsed) return 'redis';
  return `${parsed.host}:${parsed.port}/${parsed.db}${target.via ? ` via ${target.via}` : ''}`;
}

class Deadline extends Error {}

/**
 * Connects, runs `work` and closes the connection whatever happens. The whole call (tunnel,
 * connect, handshake, commands) ends by the call's timeout or signal; the client is destroyed then,
 * so no socket or reconnect timer outlives the run. Throws RedisError, or the SshError of the tunnel.
 */
export async function withRedis<T>(target: RedisTarget, ssh: SshTransport, call: RedisCall, work: (session: RedisSession) => Promise<T>): Promise<T> {
  if (!target.url) throw new RedisError('no_url', 'no Redis URL (its url_env or url_file is empty)');
  const parsed = parseRedisUrl(target.url);
  if (!parsed) throw new RedisError('bad_url', 'the Redis URL is not a redis:// or rediss:// URL with an optional numeric database');
  const where = redisTarget(target);
  const within = formatMs(call.timeoutMs);
  let phase = 'connecting';
  let destroy: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      destroy();
      reject(new Deadline());
    };
    timer = setTimeout(onAbort, call.timeoutMs);
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
  });
  deadline.catch(() => undefined);

  const run = async (): Promise<T> => {
    let endpoint = { host: parsed.host, port: parsed.port };
    if (target.via) endpoint = await ssh.tunnel(target.via, parsed.host, parsed.port, call.signal);
    const u = new URL(target.url!);
    u.hostname = endpoint.host;
    u.port = String(endpoint.port);
    redisLib ??= await import('redis');
    const client = redisLib.createClient({
      url: u.toString(),
      // RESP2 and AUTH work on every Redis a fleet may run; HELLO needs 6 or later.
      RESP: 2,
      name: 'vigil',
      disableClientInfo: true,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: Math.max(1, Math.round(call.timeoutMs)),
        reconnectStrategy: false,
        // Through a tunnel the certificate still names the real host.
        ...(parsed.tls ? { tls: true as const, servername: parsed.host } : {}),
      },
    });
    // Without a listener an error event would crash vigil; the awaited call reports it instead.
    client.on('error', () => undefined);
    destroy = () => {
      if (client.isOpen) client.destroy();
    };
    try {
      await client.connect();
      return await work({
        ping: async () => {
          phase = 'PING';
          return String(await client.ping());
        },
        info: async () => {
          phase = 'INFO';
          return String(await client.info());
        },
        llen: async (key) => {
          phase = `LLEN ${key}`;
          return Number(await client.lLen(key));
        },
      });
    } finally {
      destroy();
    }
  };

  try {
    return await Promise.race([run(), deadline]);
  } catch (err) {
    if (err instanceof Deadline) throw new RedisError('timeout', `no answer from ${where} within ${within} (${phase})`);
    if (target.via && phase === 'connecting') {
      const tunnelError = ssh.tunnelError(target.via, parsed.host, parsed.port);
      if (tunnelError) throw tunnelError;
    }
    throw classifyRedis(err, where, phase, target.url);
  } finally {
    clearTimeout(timer);
    call.signal.removeEventListener('abort', onAbort);
  }
}

/** Maps what node-redis or the socket threw to the failure an operator acts on. */
export function classifyRedis(err: unknown, where: string, phase: string, url: string): Error {
  if (err instanceof RedisError || (err as Error)?.name === 'SshError') return err as Error;
  const said = scrubRedis(url, err instanceof Error ? err.message : String(err));
  if (isErrorReply(err)) {
    if (/^(WRONGPASS|NOAUTH)\b/.test(said) || /^ERR (AUTH|invalid password|Client sent AUTH)/i.test(said)) {
      return new RedisError('auth', `vigil cannot authenticate to ${where}: ${said}`);
    }
    if (/^LOADING\b/.test(said)) return new RedisError('loading', `${where} is loading its dataset into memory and answers no commands yet (${said})`);
    return new RedisError('rejected', `${where} answered ${phase} with an error: ${said}`);
  }
  const code = systemCode(err);
  if (code === 'ECONNREFUSED') return new RedisError('refused', `connection refused by ${where}: nothing is listening (Redis down or restarting)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RedisError('dns', `cannot resolve the host of ${where}`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return new RedisError('unreachable', `${where} is unreachable (${code})`);
  if ((err as Error)?.name === 'ConnectionTimeoutError') return new RedisError('timeout', `no connection to ${where} within the probe's timeout`);
  return new RedisError('closed', `${where} closed the connection while ${phase}${code ? ` (${code})` : ''}: ${said}`);
}

function systemCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown } | null;
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors)) return systemCode(e.errors[0]);
  return undefined;
}

/** Removes the URL and its password from text the client produced. */
export function scrubRedis(url: string, text: string): string {
  let out = text;
  const secrets = [url];
  try {
    const u = new URL(url);
    if (u.password) secrets.push(u.password, decodeURIComponent(u.password));
  } catch {
    // not a URL: only the whole string is known to be secret
  }
  for (const s of secrets.filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join('[redacted]');
  return out.replace(/rediss?:\/\/\S+/gi, 'redis://[redacted]');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** `INFO`'s `key:value` lines as a map (sections and comments dropped). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}
