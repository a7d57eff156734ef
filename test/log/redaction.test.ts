// Every path of the log's redaction list hides a planted value, at the top level and one object down, in the root logger and the HTTP one.
import t from 'tap';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/sqlite.js';
import { testConfig } from '../helpers/config.js';

const PLANTED = {
  password: 'planted-password-71c2',
  token: 'planted-token-9a0e',
  apiToken: 'planted-api-token-5d33',
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nplanted-private-key-b8f1\n-----END OPENSSH PRIVATE KEY-----',
  passphrase: 'planted-passphrase-2e64',
  url_secret: 'https://discord.com/api/webhooks/1/planted-url-secret-c07a',
};

function memoryLogger() {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  return { log, lines };
}

t.test('each redacted key, at the top and one level down, is replaced by [redacted]', async (t) => {
  const { log, lines } = memoryLogger();
  for (const [key, value] of Object.entries(PLANTED)) {
    lines.length = 0;
    log.info({ [key]: value }, `top ${key}`);
    log.info({ host: { [key]: value, name: 'prod-backend' } }, `nested ${key}`);
    t.equal(lines.length, 2, `${key}: two lines`);
    const [top, nested] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    t.equal(top?.[key], '[redacted]', `${key} at the top is redacted`);
    t.equal(nested?.host?.[key], '[redacted]', `${key} one level down is redacted`);
    t.equal(nested?.host?.name, 'prod-backend', 'the rest of the object stays');
    t.notOk(lines.some((l) => l.includes(value.split('\n')[1] ?? value)), `${key}: the value is in no line`);
  }
});

t.test('request headers: authorization and cookie are redacted', async (t) => {
  const { log, lines } = memoryLogger();
  log.info({ req: { method: 'POST', headers: { authorization: 'Bearer planted-bearer-1f4d', cookie: 'vigil_name=planted-cookie-8e2b', accept: 'text/html' } } }, 'request');
  log.info({ headers: { authorization: 'Bearer planted-bearer-66a0' } }, 'headers');
  const [req, headers] = lines.map((l) => JSON.parse(l) as Record<string, any>);
  t.same(req?.req.headers, { authorization: '[redacted]', cookie: '[redacted]', accept: 'text/html' });
  t.same(headers?.headers, { authorization: '[redacted]' });
  t.notMatch(lines.join(''), /planted-/);
});

t.test("the HTTP server's own logger redacts the same paths", async (t) => {
  const { log, lines } = memoryLogger();
  const store = openStore(':memory:');
  const app = buildApp({
    config: testConfig(),
    store,
    metrics: createMetrics('test'),
    log,
    engineState: () => ({ subjects: new Map(), incidents: new Map(), nextIncidentId: 1 }),
    dispatch: () => ({ ok: false, code: 'not_found', message: 'none' }),
    health: () => ({ scheduler: true, store: true, ready: true }),
  });
  t.teardown(async () => {
    await app.close();
    store.close();
  });
  await app.ready();
  lines.length = 0;
  app.log.info({ ...PLANTED, headers: { authorization: 'Bearer planted-bearer-c4d2' } }, 'everything at once');
  t.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!) as Record<string, any>;
  for (const key of Object.keys(PLANTED)) t.equal(line[key], '[redacted]', `${key} redacted by the HTTP logger`);
  t.same(line.headers, { authorization: '[redacted]' });
  t.notMatch(lines[0], /planted-/);
});
