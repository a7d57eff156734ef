// The demo's backup bucket: a minimal in-process ListObjectsV2 responder (path-style) whose snapshots follow the backups' cron, less the last two while the timeline says the sidecar stopped.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { latestCronStart, MAX_CRON_WINDOW_MS } from '../cron.js';

export interface DemoBucketOptions {
  bucket: string;
  prefix: string;
  /** The backups' cron (UTC), as the backup probe is told. */
  schedule: string;
  /** The sidecar stopped: the two most recent backups never arrived. */
  late: () => boolean;
}

export interface DemoBucket {
  endpoint: string;
  close(): Promise<void>;
}

/** Snapshots listed: about two days at Sartiq's production schedule. */
const KEPT = 14;
/** How long after its due time a snapshot lands in the bucket. */
const UPLOAD_DELAY_MS = 3 * 60_000;

interface Listed {
  key: string;
  size: number;
  lastModified: number;
}

/** The bucket's contents at `now`: a `pgsql_app_db_YYYYMMDD-HHMMSS.sql.zst` and its `.md5` per due time. */
export function demoSnapshots(opts: Omit<DemoBucketOptions, 'bucket'>, now: number): Listed[] {
  const objects: Listed[] = [];
  let cursor = now;
  let made = 0;
  while (objects.length < KEPT * 2) {
    const due = latestCronStart(opts.schedule, cursor, MAX_CRON_WINDOW_MS);
    if (due === null) break;
    cursor = due - 1_000;
    const at = due + UPLOAD_DELAY_MS;
    if (at > now) continue;
    made += 1;
    if (opts.late() && made <= 2) continue;
    const stamp = new Date(due).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const key = `${opts.prefix}pgsql_app_db_${stamp}.sql.zst`;
    // A database that grows a little each day.
    const size = 48 * 1024 * 1024 + Math.floor((due / 3_600_000) % 1000) * 4096;
    objects.push({ key, size, lastModified: at }, { key: `${key}.md5`, size: 33, lastModified: at + 1_000 });
  }
  return objects;
}

export async function startDemoBucket(opts: DemoBucketOptions): Promise<DemoBucket> {
  const server = createServer((req, res) => serve(req, res, opts));
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serve(req: IncomingMessage, res: ServerResponse, opts: DemoBucketOptions): void {
  const url = new URL(req.url ?? '/', 'http://demo');
  const reply = (status: number, body: string) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/xml');
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  };
  const error = (status: number, code: string, message: string) => reply(status, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  // Like R2, nothing is served to an unsigned request.
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) return error(403, 'AccessDenied', 'Access Denied');
  const bucket = decodeURIComponent(url.pathname.replace(/^\/|\/$/g, ''));
  if (req.method !== 'GET' || url.searchParams.get('list-type') !== '2') return error(501, 'NotImplemented', 'only ListObjectsV2 is served here');
  if (bucket !== opts.bucket) return error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  const prefix = url.searchParams.get('prefix') ?? '';
  const objects = demoSnapshots(opts, Date.now())
    .filter((o) => o.key.startsWith(prefix))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const contents = objects
    .map((o) => {
      const etag = createHash('md5').update(o.key).digest('hex');
      return `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><ETag>&quot;${etag}&quot;</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  reply(
    200,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${objects.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
