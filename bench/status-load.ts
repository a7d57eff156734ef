// N requests to one URL all at once, each on its own connection and accepting gzip, as N browsers
// opening /status would: returns each one's time to the last byte (ms, sorted), the body bytes
// received and how many failed. The client is plain sockets writing one HTTP/1.1 request each and
// reading to the close (Connection: close), so that its own work, on the same machine, is as small as it
// can be and the times are the server's more than the client's.
import { connect } from 'node:net';

export interface LoadResult {
  latenciesMs: number[];
  failed: number;
  /** Why requests failed: error code (or HTTP status) → count. */
  errors: Record<string, number>;
  bytes: number;
}

/** Longer than any answer should take: a request still unanswered then counts as failed. */
const REQUEST_TIMEOUT_MS = 60_000;

export async function concurrentGets(url: string, requests: number): Promise<LoadResult> {
  const { hostname, port, pathname, host } = new URL(url);
  const request = Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/html,application/json\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: close\r\n\r\n`);
  let failed = 0;
  let bytes = 0;
  const errors: Record<string, number> = {};
  const fail = (why: string) => {
    failed++;
    errors[why] = (errors[why] ?? 0) + 1;
  };
  const latenciesMs = await Promise.all(
    Array.from(
      { length: requests },
      () =>
        new Promise<number>((resolve) => {
          const start = performance.now();
          const chunks: Buffer[] = [];
          let done = false;
          const finish = (why: string | null) => {
            if (done) return;
            done = true;
            socket.destroy();
            if (why !== null) fail(why);
            resolve(performance.now() - start);
          };
          const socket = connect(Number(port), hostname, () => socket.write(request));
          socket.setTimeout(REQUEST_TIMEOUT_MS, () => finish('timeout'));
          socket.on('data', (chunk: Buffer) => chunks.push(chunk));
          socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
          socket.on('end', () => {
            const response = Buffer.concat(chunks);
            const headEnd = response.indexOf('\r\n\r\n');
            const status = /^HTTP\/1\.[01] (\d{3})/.exec(response.subarray(0, 16).toString('latin1'))?.[1];
            if (headEnd < 0 || status === undefined) return finish('no HTTP response');
            const head = response.subarray(0, headEnd).toString('latin1');
            const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
            const body = response.length - headEnd - 4;
            if (length !== undefined && Number(length) !== body) return finish('short body');
            bytes += body;
            finish(status === '200' ? null : `HTTP ${status}`);
          });
        }),
    ),
  );
  return { latenciesMs: latenciesMs.sort((a, b) => a - b), failed, errors, bytes };
}
