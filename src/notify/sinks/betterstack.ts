// Runs inside pino's transport worker: ships log records to Better Stack, reports dropped records to the main thread.
// @logtail/pino does the same shipping but keeps its Logtail (and so its `dropped` count) to itself.
import { parentPort } from 'node:worker_threads';
import { Logtail } from '@logtail/node';
import build from 'pino-abstract-transport';
import { DROPPED_EVENT, type BetterStackTransportOptions } from './betterstack-protocol.js';

export type { BetterStackTransportOptions };

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

function levelOf(level: unknown): string {
  if (typeof level === 'string' && LEVELS.has(level)) return level;
  if (typeof level === 'number') return level >= 60 ? 'fatal' : level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
  return 'info';
}

export default async function betterStackTransport(opts: BetterStackTransportOptions) {
  const logtail = new Logtail(opts.sourceToken, {
    endpoint: opts.endpoint,
    batchInterval: opts.batchIntervalMs ?? 1_000,
    retryCount: opts.retryCount ?? 3,
    // Drops are counted and reported below; one console line per dropped record helps nobody.
    ignoreExceptions: true,
    captureStackContext: false,
  });
  let reported = 0;
  let pending: NodeJS.Timeout | undefined;
  const report = () => {
    pending = undefined;
    const dropped = logtail.dropped - reported;
    if (dropped <= 0) return;
    reported += dropped;
    // thread-stream turns an EVENT message into an event on the main thread's stream.
    parentPort?.postMessage({ code: 'EVENT', name: DROPPED_EVENT, args: [dropped] });
  };
  // One report per second at most, however many records a failed batch held.
  const settled = () => {
    if (!pending) pending = setTimeout(report, 1_000);
  };

  return build(
    async (source: AsyncIterable<Record<string, unknown>>) => {
      for await (const record of source) {
        const { time, msg, level, ...fields } = record;
        const at = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
        void logtail.log(typeof msg === 'string' ? msg : '', levelOf(level), { ...fields, dt: at } as never).finally(settled);
      }
    },
    {
      async close() {
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.closeTimeoutMs ?? 3_000)));
        await Promise.race([logtail.flush(), limit]);
        clearTimeout(timer);
        clearTimeout(pending);
        report();
      },
    },
  );
}
