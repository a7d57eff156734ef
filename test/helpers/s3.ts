// A local S3-compatible server for tests: s3rver on 127.0.0.1:0 over a temp dir, with objects put through the real S3 API and aged on disk.
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { HasTeardown } from './tmp.js';
import { tmpDir } from './tmp.js';

/** s3rver's one account. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

export interface LocalS3 {
  endpoint: string;
  /** Puts an object (`size` bytes) through the S3 API; `ageMs` makes its LastModified that far in the past. */
  put(bucket: string, key: string, size: number, ageMs?: number): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  createBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(t: HasTeardown): Promise<LocalS3> {
  const directory = tmpDir(t, 'vigil-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY } });
  let closed = false;
  const s3: LocalS3 = {
    endpoint,
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async put(bucket, key, size, ageMs = 0) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, 'x') }));
      if (ageMs > 0) {
        // s3rver reports LastModified from the stored file's mtime (filesystem store, "<name>._S3rver_object").
        const parts = key.split('/');
        const file = join(directory, bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`);
        const at = new Date(Date.now() - ageMs);
        utimesSync(file, at, at);
      }
    },
    async remove(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      await server.close();
    },
  };
  t.teardown(() => s3.close());
  return s3;
}
