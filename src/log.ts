// The root pino logger: JSON lines to stdout (or a given stream), secrets redacted by path, and to
// Better Stack when a source token is set. stdout is written synchronously: log volume is low
// (events, not probe results) and no line may be lost when vigil is killed. Better Stack is shipped
// from pino's worker thread, so a slow or dead ingest never blocks probing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino, type Logger, type DestinationStream } from 'pino';
import { DROPPED_EVENT, type BetterStackTransportOptions } from './notify/sinks/betterstack-protocol.js';

export type { Logger };

/** Field paths that may carry a secret if some caller is careless; pino replaces them. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'url_secret',
  '*.url_secret',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
  /** Ship every line to Better Stack as well (source token and ingest endpoint). */
  betterstack?: BetterStackTransportOptions | null;
}

/** The Better Stack side of the logger: what it dropped, and the flush at shutdown. */
export interface LogShipping {
  /** Records given up after the transport's retries, so far. */
  dropped(): number;
  onDropped(listener: (count: number) => void): void;
  /** Flushes what is batched and stops the worker; waits at most `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

export class LogError extends Error {
  readonly code = 'VIGIL_ERR_LOG';
  constructor(message: string) {
    super(message);
    this.name = 'LogError';
  }
}

/** The transport module, next to this file whether it runs compiled (.js) or from source (.ts). */
function transportTarget(): string {
  const js = fileURLToPath(new URL('./notify/sinks/betterstack.js', import.meta.url));
  if (existsSync(js)) return js;
  const ts = fileURLToPath(new URL('./notify/sinks/betterstack.ts', import.meta.url));
  if (existsSync(ts)) return ts;
  throw new LogError('the Better Stack transport module is missing from this build');
}

interface TransportStream extends DestinationStream {
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  end(): void;
}

function shipTo(options: BetterStackTransportOptions): { stream: DestinationStream; shipping: LogShipping } {
  const target = transportTarget();
  // Run from source (.ts), the worker needs the loader its parent was started with.
  const worker = target.endsWith('.ts') ? { worker: { execArgv: process.execArgv } } : {};
  const transport = pino.transport({ target, options, ...worker }) as unknown as TransportStream;
  let dropped = 0;
  let alive = true;
  let closed: Promise<void> | null = null;
  const listeners: Array<(n: number) => void> = [];
  const drop = (n: number) => {
    dropped += n;
    for (const l of listeners) l(n);
  };
  transport.on(DROPPED_EVENT, (n: unknown) => drop(typeof n === 'number' ? n : 0));
  // A dead worker must cost Better Stack records, never the daemon: its errors end shipping, quietly.
  transport.on('error', () => (alive = false));
  transport.on('close', () => (alive = false));
  const stream: DestinationStream = {
    write(line: string) {
      if (!alive) return void drop(1);
      try {
        transport.write(line);
      } catch {
        alive = false;
        drop(1);
      }
    },
  };
  const shipping: LogShipping = {
    dropped: () => dropped,
    onDropped: (listener) => void listeners.push(listener),
    close(timeoutMs = 5_000) {
      closed ??= new Promise<void>((resolve) => {
        if (!alive) return resolve();
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        transport.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        alive = false;
        try {
          transport.end();
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
      return closed;
    },
  };
  return { stream, shipping };
}

/** The logger and, when Better Stack is configured, its shipping handle. */
export function createRunLogger(opts: LogOptions = {}): { log: Logger; shipping: LogShipping | null } {
  const level = opts.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info';
  const local = opts.destination ?? pino.destination({ dest: 1, sync: true });
  let destination: DestinationStream = local;
  let shipping: LogShipping | null = null;
  if (opts.betterstack) {
    const shipped = shipTo(opts.betterstack);
    shipping = shipped.shipping;
    destination = pino.multistream([
      { level: 'trace', stream: local },
      { level: 'trace', stream: shipped.stream },
    ]);
  }
  const log = pino(
    {
      level,
      base: { name: 'vigil' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return { log, shipping };
}

export function createLogger(opts: LogOptions = {}): Logger {
  return createRunLogger({ ...opts, betterstack: null }).log;
}
