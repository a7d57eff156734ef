// pg_ready against a real PostgreSQL run as the monitoring role: up, refused, wrong password, silent server, 57P03, tunnel failure.
import { createServer, type Server, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { freePort } from '../helpers/vigil-process.js';
import { MONITOR_PASSWORD, SUPERUSER_PASSWORD, pgFleet, startPostgres } from '../helpers/pg.js';

const server = await startPostgres(t);

function fleet(t: Test, urls: Record<string, string>, extra = '') {
  const dbs = Object.keys(urls)
    .map((name) => `  ${name}:\n    environment: production\n    url_env: ${name.toUpperCase().replace(/-/g, '_')}_URL\n`)
    .join('');
  const probes = Object.keys(urls)
    .map((name) => `  - { id: ${name}-ready, type: pg_ready, database: ${name}, timeout: 1500ms }\n`)
    .join('');
  const env = Object.fromEntries(Object.entries(urls).map(([name, url]) => [`${name.toUpperCase().replace(/-/g, '_')}_URL`, url]));
  return pgFleet(t, `environments: { production: {} }\ndatabases:\n${dbs}${extra}probes:\n${probes}`, env);
}

/** A TCP server that accepts and then says nothing: the probe must give up at its timeout. */
async function silentServer(t: Test): Promise<number> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return port;
}

/** Answers the startup packet like a server still replaying WAL: ErrorResponse with SQLSTATE 57P03. */
async function startingUpServer(t: Test): Promise<number> {
  const fields = [['S', 'FATAL'], ['V', 'FATAL'], ['C', '57P03'], ['M', 'the database system is starting up']];
  const body = Buffer.concat([...fields.map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  const srv = createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end(Buffer.concat([Buffer.from('E'), len, body])));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return port;
}

function noSecrets(t: Test, text: string) {
  for (const secret of [MONITOR_PASSWORD, encodeURIComponent(MONITOR_PASSWORD), SUPERUSER_PASSWORD, 'wrong-pw']) {
    t.notOk(text.includes(secret), `no password in ${JSON.stringify(text.slice(0, 80))}`);
  }
}

t.test('a database that accepts the monitoring role passes, filed under the db service', async (t) => {
  const f = fleet(t, { main: server.monitorUrl });
  const run = await f.run('main-ready');
  t.equal(run.findings.length, 1);
  const [finding] = run.findings;
  t.match(finding, { key: 'main-ready', ok: true, service: 'db' });
  t.match(finding!.message, `accepting connections on 127.0.0.1:${server.port}/postgres`);
  t.type(finding!.values?.latency_seconds, 'number');
  noSecrets(t, JSON.stringify(run));
});

t.test('a wrong password: the database is up but vigil cannot authenticate (S2)', async (t) => {
  const f = fleet(t, { main: server.monitorUrl.replace(encodeURIComponent(MONITOR_PASSWORD), 'wrong-pw') });
  const run = await f.run('main-ready');
  const [finding] = run.findings;
  t.match(finding, { key: 'main-ready', ok: false, severity: 'S2' });
  t.match(finding!.message, /vigil cannot authenticate as "vigil": password authentication failed/);
  t.match(finding!.message, 'the database is up');
  noSecrets(t, JSON.stringify(run));
});

t.test('a server that accepts and never answers: a timeout finding, no hang', async (t) => {
  const port = await silentServer(t);
  const f = fleet(t, { silent: `postgres://vigil:${encodeURIComponent(MONITOR_PASSWORD)}@127.0.0.1:${port}/app` });
  const started = Date.now();
  const run = await f.run('silent-ready', AbortSignal.timeout(1500));
  t.ok(Date.now() - started < 6_000, 'gave up near its 1.5s timeout');
  t.match(run.findings[0], { key: 'silent-ready', ok: false, message: `no answer from 127.0.0.1:${port}/app within 1.5s (connecting)` });
  t.equal(run.findings[0]!.severity, undefined, 'the probe severity (S1) applies');
  noSecrets(t, JSON.stringify(run));
});

t.test('a server in recovery or starting up (57P03) says so', async (t) => {
  const port = await startingUpServer(t);
  const f = fleet(t, { replaying: `postgres://vigil:x@127.0.0.1:${port}/app` });
  const run = await f.run('replaying-ready');
  t.match(run.findings[0], { ok: false, message: 'not accepting connections yet: the database system is starting up (57P03)' });
});

t.test('a stopped server is refused within the timeout; started again, it passes', async (t) => {
  const f = fleet(t, { main: server.monitorUrl });
  t.teardown(() => server.start());
  await server.stop();
  const started = Date.now();
  const down = await f.run('main-ready');
  t.ok(Date.now() - started < 5_000, 'refused well within the timeout');
  t.match(down.findings[0], { ok: false, message: `connection refused by 127.0.0.1:${server.port}/postgres: nothing is listening (PostgreSQL down or restarting)` });
  await server.start();
  const up = await f.run('main-ready');
  t.match(up.findings[0], { ok: true });
});

t.test('a database behind an SSH host whose tunnel fails reads as the host, not as the database', async (t) => {
  const extra = `hosts:\n  bastion:\n    environment: production\n    address: 127.0.0.1\n    port: 9\n    user: ubuntu\n    private_key_env: KEY\n    host_key_sha256: "SHA256:${'A'.repeat(43)}"\n    compose_dir: /srv\n    unreachable_severity: S2\n`;
  const f = pgFleet(
    t,
    `environments: { production: {} }\n${extra}databases:\n  tunnelled:\n    environment: production\n    url_env: DB_URL\n    via: bastion\nprobes:\n  - { id: tunnelled-ready, type: pg_ready, database: tunnelled, timeout: 1s }\n`,
    { DB_URL: server.monitorUrl, KEY: 'not-a-real-key' },
  );
  const run = await f.run('tunnelled-ready');
  t.equal(run.findings.length, 1, 'only the host finding');
  t.match(run.findings[0], { key: 'host:bastion', ok: false, severity: 'S2' });
  t.notOk(run.findings.some((x) => x.key === 'tunnelled-ready'), 'no "database down" finding');
});

t.test('a URL that is not postgres:// is a finding that never echoes it', async (t) => {
  const f = pgFleet(t, `environments: { production: {} }\ndatabases:\n  main:\n    environment: production\n    url_env: EMPTY_URL\nprobes:\n  - { id: main-ready, type: pg_ready, database: main }\n`, { EMPTY_URL: 'mysql://nope' });
  const run = await f.run('main-ready');
  t.match(run.findings[0], { ok: false, message: 'the connection URL of database "main" is not a postgres:// URL' });
});
