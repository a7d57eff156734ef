// The Better Stack log transport (pino worker → @logtail/node) against a fake ingest in another process.
import { Writable } from 'node:stream';
import t from 'tap';
import { createRunLogger } from '../../src/log.js';
import { FakeBetterStack } from '../helpers/fake-betterstack.js';
import { waitFor } from '../helpers/vigil-process.js';

const TOKEN = 'bs-source-token-abc123';

function sink(): { stream: Writable & { write(l: string): boolean }; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  return { stream: stream as Writable & { write(l: string): boolean }, lines };
}

t.test('every line goes to stdout and to Better Stack as a structured record; flushed at close', async (t) => {
  const ingest = await FakeBetterStack.start(TOKEN);
  t.teardown(() => ingest.close());
  const local = sink();
  const { log, shipping } = createRunLogger({
    level: 'info',
    destination: local.stream,
    betterstack: { sourceToken: TOKEN, endpoint: ingest.endpoint, batchIntervalMs: 200 },
  });
  t.ok(shipping);
  log.error(
    { incident_id: 7, event: 'opened', severity: 'S1', environment: 'production', service: 'backend', probe: 'backend-health', summary: 'Backend API down' },
    '[INCIDENT] S1 - Backend API down on production. Investigating.',
  );
  log.info({ token: 'must-not-ship' }, 'a line with a secret field');
  await waitFor(() => ingest.records.length >= 2, 15_000, () => JSON.stringify(ingest.records));
  const incident = ingest.records.find((r) => r.event === 'opened')!;
  t.match(incident, {
    message: '[INCIDENT] S1 - Backend API down on production. Investigating.',
    level: 'error',
    incident_id: 7,
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    probe: 'backend-health',
    summary: 'Backend API down',
    name: 'vigil',
  });
  t.ok(ingest.records.every((r) => !JSON.stringify(r).includes('must-not-ship')), 'redaction applies to shipped records too');
  t.equal(local.lines.length, 2, 'stdout got both lines');

  log.info('the last words');
  await shipping!.close(10_000);
  t.ok(ingest.records.some((r) => r.message === 'the last words'), 'close() flushes what was batched');
  t.equal(ingest.unauthorized, 0, 'the bearer token was accepted');
  t.same(ingest.bad, [], 'every batch was POSTed to / in msgpack and gzip');
  t.equal(shipping!.dropped(), 0);
});

t.test('a wrong token or a dead ingest: records are dropped after the retries and counted; logging goes on', async (t) => {
  const ingest = await FakeBetterStack.start(TOKEN);
  t.teardown(() => ingest.close());
  await ingest.setMode('down');
  const local = sink();
  const { log, shipping } = createRunLogger({
    level: 'info',
    destination: local.stream,
    betterstack: { sourceToken: TOKEN, endpoint: ingest.endpoint, batchIntervalMs: 100, retryCount: 2 },
  });
  t.teardown(() => shipping!.close(5_000));
  const counted: number[] = [];
  shipping!.onDropped((n) => counted.push(n));
  const started = Date.now();
  for (let i = 0; i < 5; i++) log.warn({ i }, `line ${i}`);
  t.ok(Date.now() - started < 1_000, 'logging does not wait for the ingest');
  await waitFor(() => shipping!.dropped() >= 5, 20_000, () => `dropped ${shipping!.dropped()}, refused ${ingest.refused}`);
  t.equal(shipping!.dropped(), 5, 'each record given up is counted once');
  t.equal(counted.reduce((a, b) => a + b, 0), 5, 'and reported to listeners');
  t.ok(ingest.refused >= 3, 'the transport retried before giving up');
  t.equal(local.lines.length, 5, 'stdout has every line regardless');

  const wrong = createRunLogger({ level: 'info', destination: sink().stream, betterstack: { sourceToken: 'wrong', endpoint: ingest.endpoint, batchIntervalMs: 100, retryCount: 0 } });
  t.teardown(() => wrong.shipping!.close(5_000));
  await ingest.setMode('up');
  wrong.log.info('refused for its token');
  await waitFor(() => wrong.shipping!.dropped() >= 1, 15_000, () => `unauthorized ${ingest.unauthorized}`);
  t.ok(ingest.unauthorized >= 1, 'the fake checked the bearer token');
});

t.test('a batch the ingest answers 429 (rate limited) is sent again and arrives once', async (t) => {
  const ingest = await FakeBetterStack.start(TOKEN);
  t.teardown(() => ingest.close());
  await ingest.script('ingest', 429);
  const { log, shipping } = createRunLogger({
    level: 'info',
    destination: sink().stream,
    betterstack: { sourceToken: TOKEN, endpoint: ingest.endpoint, batchIntervalMs: 100, retryCount: 3 },
  });
  t.teardown(() => shipping!.close(5_000));
  log.warn('after a 429');
  await waitFor(() => ingest.records.some((r) => r.message === 'after a 429'), 20_000, () => `scripted ${ingest.scripted}, records ${JSON.stringify(ingest.records)}`);
  t.equal(ingest.scripted, 1, 'the first try was rate limited');
  t.equal(ingest.records.filter((r) => r.message === 'after a 429').length, 1, 'the retry delivered it, once');
  t.equal(shipping!.dropped(), 0);
});
