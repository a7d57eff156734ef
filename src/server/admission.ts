// A crowd opening /status at once (an incident link shared in a channel) arrives as hundreds of
// requests within a few event-loop turns. Node would answer every request that is ready before any
// timer ran again, so the probes due meanwhile would start hundreds of milliseconds late. The server's
// request handler is therefore given a share of each turn: a handful of requests run at once, the rest
// wait for the next turn in the order they came, and the scheduler's timers run in between. Nothing
// waits idle: the crowd is answered as fast as the machine can, only interleaved with the probes.
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';

/** Requests handled per event-loop turn: a few milliseconds of work on a small machine. */
export const REQUESTS_PER_TURN = 16;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps `handle` so that at most `perTurn` requests start between two passes of the event loop's check
 * phase; the others wait, in order, for the turns after. At most 2·perTurn requests start between two
 * timer callbacks (a turn's own arrivals and its queued ones).
 */
export function takingTurns(handle: Handler, perTurn: number = REQUESTS_PER_TURN): Handler {
  if (!Number.isInteger(perTurn) || perTurn < 1) throw new RangeError(`perTurn must be a positive integer, got ${perTurn}`);
  let waiting: Array<[IncomingMessage, ServerResponse] | undefined> = [];
  let head = 0;
  let startedThisTurn = 0;
  let turnEnds = false;
  const nextTurn = (): void => {
    turnEnds = false;
    startedThisTurn = 0;
    const end = Math.min(waiting.length, head + perTurn);
    while (head < end) {
      const [req, res] = waiting[head]!;
      waiting[head++] = undefined;
      start(req, res);
    }
    if (head === waiting.length) {
      waiting = [];
      head = 0;
    } else endTurn();
  };
  const endTurn = (): void => {
    if (turnEnds) return;
    turnEnds = true;
    setImmediate(nextTurn);
  };
  const start = (req: IncomingMessage, res: ServerResponse): void => {
    startedThisTurn++;
    endTurn();
    handle(req, res);
  };
  return (req, res) => {
    if (startedThisTurn < perTurn && head === waiting.length) start(req, res);
    else {
      waiting.push([req, res]);
      endTurn();
    }
  };
}

/** The HTTP/1 server fastify would make (its `serverFactory` contract), with the handler taking turns. */
export function serverTakingTurns(
  handler: Handler,
  opts: { http?: ServerOptions | null; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number },
): Server {
  const server = createServer(opts.http ?? {}, takingTurns(handler));
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
  if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
  if (opts.connectionTimeout !== undefined) server.setTimeout(opts.connectionTimeout);
  return server;
}
