// A backup run whose timeout comes while the S3 client is still loading ends at its timeout, in a
// process that has not loaded the SDK yet (tap runs each file in its own).
import t from 'tap';
import { prepareProbeTypes } from '../../src/probes/index.js';
import { listObjects, loadS3Sdk, S3Error, s3SdkRequested } from '../../src/transport/s3.js';

t.test('the run ends at its timeout while the SDK loads, and the SDK loads for the next run', async (t) => {
  prepareProbeTypes([{ type: 'http' }, { type: 'pg_ready' }]);
  t.notOk(s3SdkRequested(), 'a config without a backup probe does not load the SDK');
  let loaded = false;
  const loading = loadS3Sdk().then(() => {
    loaded = true;
  });
  const location = { endpoint: 'http://127.0.0.1:9', region: 'auto', accessKeyId: 'AKIA-load-test', secretAccessKey: 'load-test-secret', bucket: 'b', prefix: 'p/' };
  const err = await listObjects(location, { timeoutMs: 1, signal: new AbortController().signal }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, S3Error);
  t.equal((err as S3Error).kind, 'timeout');
  t.match((err as S3Error).message, /within 1ms \(the S3 client was still loading\)/);
  t.notOk(loaded, 'it did not wait for the SDK to load');
  await loading;
  t.ok(loaded, 'the load went on and finished');
  t.equal(await loadS3Sdk(), await loadS3Sdk(), 'loaded once');
});

t.test('a config with a backup probe starts loading the SDK before its first run', async (t) => {
  prepareProbeTypes([{ type: 'http' }, { type: 'backup' }]);
  t.ok(s3SdkRequested());
  await loadS3Sdk();
});
