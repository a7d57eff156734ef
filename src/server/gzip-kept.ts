// Gzip for kept renderings, compressed once per rendering rather than once per response, and
// whether a request accepts it. A page whose parts surround a per-response value (the CSP nonce) is
// compressed part by part, and each response splices its value in as an uncompressed deflate block.
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';

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

/** parts[0] · value · parts[1] · value · … as gzip, with the parts compressed ahead of time. */
export class GzipWithSlots {
  readonly #parts: Buffer[];
  readonly #deflated: Buffer[];

  constructor(parts: readonly Buffer[]) {
    this.#parts = [...parts];
    // Every part but the last ends on a full flush (byte-aligned, not final); each starts afresh.
    this.#deflated = parts.map((part, i) => deflateRawSync(part, i < parts.length - 1 ? { finishFlush: constants.Z_FULL_FLUSH } : {}));
  }

  /** The gzip body with `value` (at most 65,535 bytes) in every slot. */
  fill(value: Buffer): Buffer {
    // A stored block: BFINAL 0, BTYPE 00, padded to the byte, then LEN and its one's complement.
    const stored = Buffer.alloc(5);
    stored.writeUInt16LE(value.length, 1);
    stored.writeUInt16LE(value.length ^ 0xffff, 3);
    const chunks: Buffer[] = [GZIP_HEADER];
    let crc = 0;
    let size = 0;
    this.#parts.forEach((part, i) => {
      if (i > 0) {
        chunks.push(stored, value);
        crc = crc32(value, crc);
        size += value.length;
      }
      chunks.push(this.#deflated[i]!);
      crc = crc32(part, crc);
      size += part.length;
    });
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(size >>> 0, 4);
    chunks.push(trailer);
    return Buffer.concat(chunks);
  }
}

/** Magic, deflate, no flags, no time, no extra flags, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
