// Real HTTP(S) servers on 127.0.0.1 that misbehave on purpose: hang, trickle, flood, loop, fail.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on a random port of 127.0.0.1; with `tls`, speaks HTTPS with that key and certificate. */
export async function startHttpServer(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const server: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  // A failed handshake is the point of several tests; it must not crash the test process.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Accepts TCP connections and never says a word: hangs a TLS handshake or an HTTP request forever. */
export async function startSilentServer(): Promise<TestServer & { open(): number }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    /** Connections accepted and still open: a request waiting for its answer. */
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ── behaviours ───────────────────────────────────────────────────────────────────────────────

export function respond(status: number, body = '', headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
}

export function json(value: unknown, status = 200): Handler {
  return respond(status, JSON.stringify(value), { 'content-type': 'application/json' });
}

/** Reads the request, then never answers. */
export const hangBeforeHeaders: Handler = () => undefined;

/** Sends headers, then one byte every `everyMs`, forever. */
export function trickleBody(everyMs = 100): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    const timer = setInterval(() => res.write('.'), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

export interface FloodStats {
  /** Bytes handed to the socket (accepted by the kernel), not necessarily read by the client. */
  sent: number;
  finished: boolean;
  /** Resolves when the client has gone (hung up or read everything). */
  closed: Promise<void>;
}

/** Sends `totalBytes` of body in 64 KiB chunks, respecting backpressure; `stats` says how far it got. */
export function floodBody(totalBytes: number): { handler: Handler; stats: FloodStats } {
  let markClosed: () => void = () => undefined;
  const stats: FloodStats = { sent: 0, finished: false, closed: new Promise<void>((resolve) => (markClosed = resolve)) };
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const handler: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(totalBytes) });
    res.on('close', markClosed);
    const pump = (): void => {
      while (stats.sent < totalBytes && !res.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, totalBytes - stats.sent));
        stats.sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) {
        stats.finished = true;
        res.end();
      }
    };
    pump();
  };
  return { handler, stats };
}

export function delayed(ms: number, handler: Handler): Handler {
  return (req, res) => {
    const timer = setTimeout(() => handler(req, res), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

export function redirectTo(location: string, status = 302): Handler {
  return respond(status, '', { location });
}

/** Answers with the request's headers as JSON: a server that would leak whatever secret it is sent. */
export const echoRequestHeaders: Handler = (req, res) => {
  res.writeHead(500, { 'content-type': 'application/json', 'x-echo': JSON.stringify(req.headers) });
  res.end(JSON.stringify(req.headers));
};

/** Dispatches on the request path; 404 for anything else. */
export function routes(map: Record<string, Handler>): Handler {
  return (req, res) => {
    const handler = map[new URL(req.url ?? '/', 'http://x').pathname];
    if (handler) handler(req, res);
    else respond(404, 'not found')(req, res);
  };
}
