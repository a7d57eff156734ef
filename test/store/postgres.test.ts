// The PostgreSQL store against a real (embedded) PostgreSQL: the shared Store suite, and what only a
// server has: replicas migrating at once, a server stopped and restarted or hanging under the store.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import t from 'tap';
import { StoreError, StoreUnavailableError } from '../../src/store/errors.js';
import { PG_SCHEMA_VERSION } from '../../src/store/pg-migrations.js';
import { openPostgresStore, PostgresQueryError } from '../../src/store/postgres.js';
import { WriteBehindStore } from '../../src/store/write-behind.js';
import type { OutboundMessage } from '../../src/types.js';
import { startPostgres, SUPERUSER_PASSWORD } from '../helpers/pg.js';
import { waitFor } from '../helpers/vigil-process.js';
import { change, incident, storeSuite, type StoreBackend } from './suite.js';

const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);

t.setTimeout(300_000); // a PostgreSQL start-up, the whole suite, and a restart on a busy machine

const server = await startPostgres(t);
let databases = 0;

/** A new, empty database on the server, and its URL (a new admin connection: the server is restarted in between). */
async function database(): Promise<string> {
  const name = `vigil_${++databases}`;
  const admin = await server.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return server.superuserUrl.replace(/\/postgres$/, `/${name}`);
}

const postgres: StoreBackend = {
  name: 'PostgreSQL',
  async fresh() {
    const url = await database();
    const reader = await server.connect(url);
    return {
      open: (opts) => openPostgresStore(url, opts),
      count: async (table) => (await reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows.map((r) => Number(r.n))[0] ?? 0,
    };
  },
};

storeSuite(t, postgres);

function page(incidentId: number, createdAt: number, content: string): Omit<OutboundMessage, 'id'> {
  return { sink: 'discord', channel: 'ops', createdAt, incidentId, event: 'opened', body: { content } };
}

t.test('PostgreSQL stopped and restarted under the store: changes held in memory, written back, nothing lost', { timeout: 120_000 }, async (t) => {
  const url = await database();
  let now = T0;
  let failures = 0;
  const store = new WriteBehindStore(openPostgresStore(url, { now: () => now, timeoutMs: 2_000 }), { log: pino({ enabled: false }), now: () => now, onFailure: () => failures++ });
  t.teardown(() => store.close());
  const opened = { at: T0, event: 'opened' as const, detail: 'connection refused' };
  const [first] = store.apply(change({ incidents: [incident(1, { timeline: [opened] })], timeline: [{ incidentId: 1, entry: opened }], messages: [page(1, T0, 'opened 1')] }));
  t.same(store.pendingMessages(10).map((m) => m.id), [first!.id], 'stored and due');

  await server.stop();
  now += 1_000;
  // The message read before the outage is delivered during it.
  store.markDelivered(first!.id, now);
  t.ok(store.writesFailing(), 'the write failed and is held');
  const ack = { at: now, event: 'acknowledged' as const, detail: 'Acknowledged', by: 'ana' };
  const second = { at: now, event: 'opened' as const, detail: 'status 502' };
  const [held] = store.apply(
    change({
      incidents: [incident(1, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: 'ana', timeline: [opened, ack] }), incident(2, { openedAt: now, timeline: [second] })],
      timeline: [{ incidentId: 1, entry: ack }, { incidentId: 2, entry: second }],
      messages: [page(2, now, 'opened 2')],
    }),
  );
  t.ok(held!.id > first!.id, 'a message made during the outage gets a new id');
  t.same(store.pendingMessages(10).map((m) => m.id), [held!.id], 'and is due from memory');
  t.equal(store.getIncident(2)?.state, 'open', 'the incident is read from memory');
  t.ok(failures > 0, 'the refused writes are counted');
  t.throws(() => store.ping(now), 'the heartbeat says the store does not write');

  await server.start();
  await waitFor(() => store.retry(), 30_000, () => 'never written back');
  t.notOk(store.writesFailing());
  store.markDelivered(held!.id, now + 1);
  store.close();

  const again = openPostgresStore(url);
  t.teardown(() => again.close());
  t.same(again.listIncidents({}).map((i) => [i.id, i.state, i.timeline.map((e) => e.event)]), [[2, 'open', ['opened']], [1, 'acknowledged', ['opened', 'acknowledged']]], 'both incidents, their timelines whole');
  t.equal(again.pendingCount(), 0, 'both messages delivered, none pending');
  t.match(again.messageState(first!.id), { state: 'delivered' }, 'the delivery made during the outage is recorded');
  t.match(again.messageState(held!.id), { state: 'delivered', body: JSON.stringify({ content: 'opened 2' }) });
  const [next] = again.apply(change({ messages: [page(2, now + 2, 'resolved 2')] }));
  t.ok(next!.id > held!.id, 'ids continue after the ones handed out during the outage');
});

t.test('a server that stops answering fails the call within its timeout; the next call reconnects', { timeout: 60_000 }, async (t) => {
  const url = await database();
  const store = openPostgresStore(url, { timeoutMs: 1_500 });
  t.teardown(() => store.close());
  store.ping(T0);
  // Freeze the backend serving the store: the connection stays open and nothing comes back.
  const admin = await server.connect();
  const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'vigil' AND datname = $1`, [url.slice(url.lastIndexOf('/') + 1)]);
  t.equal(rows.length, 1, 'one connection per store');
  const pid = rows[0]!.pid;
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  });
  const started = performance.now();
  t.throws(() => store.ping(T0 + 1), StoreUnavailableError, 'unavailable, not a hang');
  const waited = performance.now() - started;
  t.ok(waited < 10_000, `returned after ${Math.round(waited)} ms`);
  t.throws(() => store.ping(T0 + 2), /unavailable/, 'calls right after fail at once');
  process.kill(pid, 'SIGCONT');
  await waitFor(() => pings(store, T0 + 3), 20_000, () => 'never reconnected');
  t.ok(true, 'a new connection answers');
});

/** Whether a ping of the store succeeds now. */
function pings(store: { ping(now: number): unknown }, now: number): boolean {
  try {
    store.ping(now);
    return true;
  } catch {
    return false;
  }
}

/** The server's postmaster and every process it started (the backends), from /proc. */
function serverProcesses(backend: number): number[] {
  const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  const postmaster = parentOf(backend);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return parentOf(pid) === postmaster;
      } catch {
        return false; // gone meanwhile
      }
    });
  return [postmaster, ...children];
}

t.test('a whole server that hangs costs one call its timeout; the others fail at once until it answers again', { timeout: 90_000 }, async (t) => {
  const url = await database();
  const timeoutMs = 1_500;
  const store = openPostgresStore(url, { timeoutMs });
  t.teardown(() => store.close());
  store.ping(T0);
  const admin = await server.connect();
  const { rows } = await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const frozen = serverProcesses(rows[0]!.pid);
  await admin.end();
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of frozen) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
  };
  t.teardown(() => signal('SIGCONT'));
  signal('SIGSTOP');

  t.throws(() => store.ping(T0 + 1), StoreUnavailableError, 'the first call finds it unavailable');
  // For several back-off periods the daemon keeps calling, as its write-back and pages do.
  const blocked: number[] = [];
  const until = performance.now() + 6_000;
  while (performance.now() < until) {
    const started = performance.now();
    t.throws(() => store.ping(T0 + 2), StoreUnavailableError);
    const took = performance.now() - started;
    if (took >= timeoutMs * 0.9) blocked.push(Math.round(took));
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(blocked, [], 'no later call waited for the timeout: the checks run on the event loop');

  signal('SIGCONT');
  await waitFor(() => pings(store, T0 + 3), 30_000, () => 'the store never came back');
  t.pass('the store answers again once the server does');
});

t.test('replicas opening a new database at once migrate it once', { timeout: 90_000 }, async (t) => {
  const url = await database();
  // Three processes of the built vigil (npm run build), each opening the store as `vigil run` does.
  const module = new URL('../../dist/src/store/postgres.js', import.meta.url).href;
  const code = `const { openPostgresStore } = await import(${JSON.stringify(module)}); openPostgresStore(process.env.URL).close();`;
  const runs = Array.from({ length: 3 }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, NODE_OPTIONS: '', URL: url }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    return once(child, 'exit').then(([exit]) => ({ exit, stderr }));
  });
  for (const { exit, stderr } of await Promise.all(runs)) t.equal(exit, 0, stderr);
  const reader = await server.connect(url);
  t.same((await reader.query('SELECT version FROM vigil_schema')).rows, [{ version: PG_SCHEMA_VERSION }], 'one version row, the current one');
});

t.test('a database written by a newer vigil is refused; no message carries the password', async (t) => {
  const url = await database();
  openPostgresStore(url).close();
  const reader = await server.connect(url);
  await reader.query('UPDATE vigil_schema SET version = version + 1');
  t.throws(() => openPostgresStore(url, { name: 'store.postgres' }), new StoreError(`store.postgres was written by a newer vigil (schema ${PG_SCHEMA_VERSION + 1} > ${PG_SCHEMA_VERSION})`));

  const wrong = url.replace(encodeURIComponent(SUPERUSER_PASSWORD), 'not-the-password');
  const refused = (() => {
    try {
      openPostgresStore(wrong);
      return null;
    } catch (err) {
      return err as Error;
    }
  })();
  t.type(refused, StoreError);
  t.match(refused?.message, /cannot open the PostgreSQL store: password authentication failed/);
  t.notMatch(refused?.message, /not-the-password/, 'the password is not in the message');
  const closed = (() => {
    try {
      openPostgresStore(`postgres://vigil:${encodeURIComponent(SUPERUSER_PASSWORD)}@127.0.0.1:1/vigil`);
      return null;
    } catch (err) {
      return err as Error;
    }
  })();
  t.match(closed?.message, /ECONNREFUSED/);
  t.notMatch(closed?.message, new RegExp(SUPERUSER_PASSWORD.replace(/[^\w]/g, '.')), 'nor here');
});

t.test('query: statements of other parts of vigil on the store connection, in one transaction', async (t) => {
  const store = openPostgresStore(await database());
  t.teardown(() => store.close());
  const [, inserted] = store.query([{ text: 'CREATE TABLE members (name text PRIMARY KEY)' }, { text: 'INSERT INTO members VALUES ($1), ($2) RETURNING name', values: ['vigil-a', 'vigil-b'] }], true);
  t.same(inserted?.rows, [{ name: 'vigil-a' }, { name: 'vigil-b' }]);
  const duplicate = [{ text: 'INSERT INTO members VALUES ($1)', values: ['vigil-c'] }, { text: 'INSERT INTO members VALUES ($1)', values: ['vigil-a'] }];
  t.throws(() => store.query(duplicate, true), new PostgresQueryError('duplicate key value violates unique constraint "members_pkey"', '23505'), 'a refused statement is a PostgresQueryError with its SQLSTATE');
  t.same(store.query([{ text: 'SELECT count(*) AS n FROM members' }])[0]?.rows, [{ n: 2 }], 'the whole transaction rolled back');
});
