// Lists an S3-compatible bucket (Cloudflare R2, MinIO, AWS) under a prefix for the backup probe: every page, bounded by the run's signal, credentials never in a message.
import { untilAborted } from '../until-aborted.js';

// The SDK warns once, on stderr, that its releases from 2027 need Node 22. vigil pins its SDK in
// its lockfile and supports Node 20, so the warning says nothing an operator can act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<S3Sdk> | null = null;

/**
 * The AWS SDK, loaded once: asked for when a config with a backup probe is applied, so that a first
 * run's timeout does not pay for loading it (seconds on a busy machine). A failed load is tried again.
 */
export function loadS3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3').catch((err: unknown) => {
    sdk = null;
    throw err;
  });
  return sdk;
}

/** Whether the SDK was asked for (by a backup probe's config or run) in this process. */
export function s3SdkRequested(): boolean {
  return sdk !== null;
}

/** 1,000 keys a page: a prefix with more than 100,000 objects is not a backup folder vigil should walk each run. */
const MAX_PAGES = 100;

export interface S3Location {
  /** The endpoint URL (R2: https://<account>.r2.cloudflarestorage.com); null for AWS's own. */
  endpoint: string | null;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  bucket: string;
  prefix: string;
}

export interface S3Object {
  key: string;
  size: number;
  lastModified: number;
}

export type S3FailureKind = 'no_credentials' | 'bad_endpoint' | 'refused' | 'dns' | 'unreachable' | 'timeout' | 'auth' | 'no_bucket' | 'too_many' | 'rejected';

/** An S3 failure in an operator's words; never holds a key or the endpoint's credentials. */
export class S3Error extends Error {
  readonly code: string;
  constructor(
    readonly kind: S3FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
    this.code = `VIGIL_ERR_S3_${kind.toUpperCase()}`;
  }
}

/** "s3://sartiq-snapshots/snapshots/backend/production/ at r2.example.com": where, for messages. */
export function s3Where(loc: Pick<S3Location, 'endpoint' | 'bucket' | 'prefix'>): string {
  let host = 'AWS S3';
  if (loc.endpoint) {
    try {
      host = new URL(loc.endpoint).host;
    } catch {
      host = 'its endpoint';
    }
  }
  return `s3://${loc.bucket}/${loc.prefix} at ${host}`;
}

/** Every object under the prefix (ListObjectsV2, page by page). Throws S3Error. */
export async function listObjects(loc: S3Location, call: { timeoutMs: number; signal: AbortSignal }): Promise<S3Object[]> {
  const where = s3Where(loc);
  if (!loc.accessKeyId || !loc.secretAccessKey) throw new S3Error('no_credentials', `no credentials for ${where} (access_key_id / secret_access_key are empty)`);
  if (loc.endpoint !== null && !/^https?:\/\/[^/\s]+/i.test(loc.endpoint)) throw new S3Error('bad_endpoint', `the endpoint of ${where} is not an http(s) URL`);
  const signal = AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]);
  // Not loaded by a vigil without a backup probe: the SDK costs some 25 MB of memory. A run still
  // waiting for it ends at its timeout like any other.
  const { ListObjectsV2Command, S3Client } = await untilAborted(loadS3Sdk(), signal, () => new S3Error('timeout', `no answer from ${where} within ${duration(call.timeoutMs)} (the S3 client was still loading)`));
  const client = new S3Client({
    region: loc.region,
    ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
    // R2 and local servers serve buckets by path, not by subdomain.
    forcePathStyle: true,
    credentials: { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey },
    // A retry would outlive the probe's timeout; the next run is the retry.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: call.timeoutMs, requestTimeout: call.timeoutMs },
  });
  const objects: S3Object[] = [];
  try {
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await client.send(
        new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.prefix, ...(token ? { ContinuationToken: token } : {}) }),
        { abortSignal: signal },
      );
      for (const o of out.Contents ?? []) {
        if (o.Key === undefined) continue;
        objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0 });
      }
      if (!out.IsTruncated || !out.NextContinuationToken) return objects;
      token = out.NextContinuationToken;
    }
    throw new S3Error('too_many', `${where} holds more than ${MAX_PAGES * 1000} objects: narrow the prefix`);
  } catch (err) {
    if (err instanceof S3Error) throw err;
    throw classifyS3(err, where, signal.aborted, call.timeoutMs, loc);
  } finally {
    client.destroy();
  }
}

function classifyS3(err: unknown, where: string, aborted: boolean, timeoutMs: number, loc: S3Location): S3Error {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; errors?: unknown[] };
  const code = e?.code ?? (Array.isArray(e?.errors) ? (e.errors[0] as { code?: string })?.code : undefined);
  const status = e?.$metadata?.httpStatusCode;
  const said = scrubS3(loc, e?.message ?? String(err));
  if (aborted || e?.name === 'AbortError' || e?.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new S3Error('timeout', `no answer from ${where} within ${duration(timeoutMs)}`);
  }
  if (code === 'ECONNREFUSED') return new S3Error('refused', `connection refused by ${where}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new S3Error('dns', `cannot resolve the endpoint of ${where}`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new S3Error('unreachable', `${where} is unreachable (${code})`);
  if (e?.name === 'NoSuchBucket') return new S3Error('no_bucket', `bucket "${loc.bucket}" does not exist at ${where}`);
  if (e?.name === 'InvalidAccessKeyId' || e?.name === 'SignatureDoesNotMatch' || e?.name === 'AccessDenied' || status === 401 || status === 403) {
    return new S3Error('auth', `${where} refused vigil's credentials (${e?.name ?? status}): check access_key_id / secret_access_key and that the token may list the bucket`);
  }
  return new S3Error('rejected', `listing ${where} failed${status ? ` (HTTP ${status})` : ''}: ${said}`);
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** Removes the keys and the endpoint's userinfo from an SDK message. */
function scrubS3(loc: S3Location, text: string): string {
  let out = text;
  for (const secret of [loc.secretAccessKey, loc.accessKeyId].filter((s): s is string => typeof s === 'string' && s.length > 0)) out = out.split(secret).join('[redacted]');
  return out.replace(/\/\/[^/@\s]+@/g, '//[redacted]@');
}
