// N requests to one URL all at once, each on its own connection and accepting gzip, as N browsers
// opening /status would:
// returns each one's time to the last byte (ms, sorted), the bytes received and how many failed.
import { Agent } from 'undici';

export interface LoadResult {
  latenciesMs: number[];
  failed: number;
  /** Why requests failed: error code (or HTTP status) → count. */
  errors: Record<string, number>;
  bytes: number;
}

export async function concurrentGets(url: string, requests: number): Promise<LoadResult> {
  // No limit on connections per origin: every request opens its own, at the same moment.
  const agent = new Agent({ connections: null, pipelining: 0, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const { origin, pathname } = new URL(url);
  let failed = 0;
  let bytes = 0;
  const errors: Record<string, number> = {};
  const fail = (why: string) => {
    failed++;
    errors[why] = (errors[why] ?? 0) + 1;
  };
  try {
    const latenciesMs = await Promise.all(
      Array.from({ length: requests }, async () => {
        const start = performance.now();
        try {
          const res = await agent.request({ origin, path: pathname, method: 'GET', headers: { 'accept-encoding': 'gzip, deflate, br' } });
          const body = await res.body.arrayBuffer();
          bytes += body.byteLength;
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
        } catch (err) {
          fail(String((err as { code?: unknown }).code ?? (err as Error).message));
        }
        return performance.now() - start;
      }),
    );
    return { latenciesMs: latenciesMs.sort((a, b) => a - b), failed, errors, bytes };
  } finally {
    await agent.destroy();
  }
}
