// Gzip for kept renderings, compressed once per rendering rather than once per response, and
// whether a request accepts it. A kept rendering is the same bytes for every response, so its
// gzip is too.
import { gzipSync } from 'node:zlib';

/** Whether Accept-Encoding allows gzip (named, or `*`, with a q above 0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((item) => {
    const [name = '', ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function gzipOnce(body: Buffer): Buffer {
  return gzipSync(body);
}
