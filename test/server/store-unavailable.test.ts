// The HTTP routes while the PostgreSQL store is down (a real server, stopped mid-test): what the daemon holds in
// memory is answered from there, the rest is a 503 naming the store (never its URL), and all reads again once it is back.
import { pino } from 'pino';
import t from 'tap';
import { actionTokenFor } from '../../src/action-token.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { WriteBehindStore } from '../../src/store/write-behind.js';
import { testConfig } from '../helpers/config.js';
import { MONITOR_PASSWORD, SUPERUSER_PASSWORD, startPostgres } from '../helpers/pg.js';
import { waitFor } from '../helpers/vigil-process.js';
import { harness, makeIncident, NOW } from './harness.js';

t.setTimeout(180_000); // a PostgreSQL start-up and a restart on a busy machine

const TOKEN = 'tok_5d1e9b7a3c2f4860b1a0e9d8';
const ACTION_SECRET = 'act_8c4f2a9e1b7d3065c2e1f0a9b8c7d6e5';

t.test('PostgreSQL stopped under the server: memory answers, the rest is a 503 naming the store', async (t) => {
  const server = await startPostgres(t);
  const admin = await server.connect();
  await admin.query('CREATE DATABASE vigil_http');
  const url = server.superuserUrl.replace(/\/postgres$/, '/vigil_http');
  const base = testConfig();
  const config = testConfig({
    server: { ...base.server, apiToken: TOKEN, publicUrl: 'https://vigil.example.test', actionSecret: ACTION_SECRET },
    store: { ...base.store, postgres: { urlEnv: 'VIGIL_PG_URL', url } },
  });
  const store = new WriteBehindStore(openPostgresStore(url, { timeoutMs: 2_000 }), { log: pino({ enabled: false }) });
  const h = harness({ config, store });
  t.teardown(async () => {
    await server.start(); // so the store closes cleanly whatever failed
    await h.close();
  });

  // #1 is open: the engine holds it. #2 was resolved long ago: only the store has it.
  h.seed(makeIncident({ id: 1, summary: 'Backend API down' }));
  h.seed(makeIncident({ id: 2, state: 'resolved', openedAt: NOW - 30 * 86_400_000, resolvedAt: NOW - 29 * 86_400_000, summary: 'Old outage' }));
  t.notOk(h.incidents.has(2), 'the engine no longer holds #2');
  const get = (path: string) => h.app.inject({ method: 'GET', url: path });
  t.equal((await get('/api/incidents/2')).statusCode, 200, 'read from the store while it is up');
  const auth = { authorization: `Bearer ${TOKEN}` };
  const added = await h.app.inject({ method: 'POST', url: '/api/silences', headers: auth, payload: { matchers: { service: 'backend' }, duration: '2h', reason: 'db migration', by: 'ana' } });
  t.equal(added.statusCode, 201, 'a silence added while the store is up');

  await server.stop();

  /** A 503 for the store: its name as the config gives it, nothing of the URL, a hint to retry. */
  const unavailable = (res: Awaited<ReturnType<typeof get>>, what: string) => {
    t.equal(res.statusCode, 503, `${what}: 503`);
    t.equal(res.headers['retry-after'], '5', `${what}: Retry-After`);
    t.match(res.body, 'the PostgreSQL store at $VIGIL_PG_URL is unavailable', `${what}: names the store`);
    for (const leak of [url, SUPERUSER_PASSWORD, MONITOR_PASSWORD, String(server.port), '127.0.0.1', 'ECONNREFUSED']) {
      t.notMatch(res.body, leak, `${what}: no ${leak === url ? 'URL' : leak}`);
    }
  };

  const old = await get('/api/incidents/2');
  unavailable(old, 'an incident only the store holds');
  t.same(old.json().error.code, 'store_unavailable');
  t.match(old.headers['content-type'], /^application\/json/);
  unavailable(await get('/api/incidents'), 'the whole list');
  unavailable(await get('/api/incidents?state=resolved'), 'the resolved list');
  unavailable(await get('/api/incidents/2/review'), 'the review of an incident only the store holds');
  const page = await get('/status/incidents/2');
  unavailable(page, 'the page of an incident only the store holds');
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, '<h1>Store unavailable</h1>');
  t.match(page.headers['content-security-policy'], "default-src 'none'", 'the page keeps its CSP');

  const open = await get('/api/incidents/1');
  t.equal(open.statusCode, 200, 'an open incident is read from memory');
  t.equal(open.json().summary, 'Backend API down');
  t.equal((await get('/api/incidents/1/review')).statusCode, 200, 'and its review');
  t.equal((await get('/status/incidents/1')).statusCode, 200, 'and its page');
  t.equal((await get(`/act/${actionTokenFor(ACTION_SECRET, 1, NOW)}`)).statusCode, 200, 'and the page of its action link');
  unavailable(await get(`/act/${actionTokenFor(ACTION_SECRET, 2, NOW)}`), 'the action page of an incident only the store holds');
  const list = await get('/api/incidents?state=open');
  t.equal(list.statusCode, 200, 'the open incidents are all in memory');
  t.same(list.json().incidents.map((i: { id: number }) => i.id), [1]);

  const status = await get('/api/status');
  t.equal(status.statusCode, 200, '/api/status is from memory');
  t.same(status.json().open_incidents.map((i: { id: number }) => i.id), [1]);
  t.equal(status.json().store_unavailable, true, 'and says the store could not be read');
  t.notOk('undelivered' in status.json(), 'given-up messages are left out, not shown as none');
  const html = await get('/status');
  t.equal(html.statusCode, 200, '/status is from memory');
  t.match(html.body, 'Backend API down');
  t.match(html.body, /id="store-unavailable"[^>]*>the PostgreSQL store at \$VIGIL_PG_URL is unavailable: this page shows what vigil holds in memory/);
  t.notMatch(html.body, String(server.port));
  // What is silenced matters most when something is down: shown from memory, not left out as "none".
  t.match(html.body, /<section id="silences">[\s\S]*db migration[\s\S]*<\/section>/, '/status shows the silence in force');
  t.notMatch(html.body, 'No silences in force', 'and does not say there is none');
  const silences = await get('/api/silences');
  t.equal(silences.statusCode, 200, 'the silences in force are read from memory');
  t.same(silences.json().silences.map((s: { id: number; reason: string }) => [s.id, s.reason]), [[added.json().id, 'db migration']]);
  unavailable(await get('/api/silences?state=expired'), 'the silences over, which only the store holds');

  const ack = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: { authorization: `Bearer ${TOKEN}` }, payload: { by: 'ana' } });
  t.equal(ack.statusCode, 200, 'an ack is applied in memory and held for the store');
  t.equal(ack.json().state, 'acknowledged');
  t.ok(store.writesFailing(), 'the write is held');
  t.ok(h.logs.some((l) => l.includes('request needs the store, which is unavailable')), 'the 503s are logged');
  t.notOk(h.logs.some((l) => l.includes('"statusCode":500')), 'nothing answered 500');

  await server.start();
  const back = await waitFor(async () => {
    const res = await get('/api/incidents/2');
    return res.statusCode === 200 && res;
  }, 30_000, () => 'the store did not read again');
  t.equal(back.json().summary, 'Old outage', 'the store reads again once PostgreSQL is back');
  const status2 = await get('/api/status');
  t.notOk('store_unavailable' in status2.json());
  t.notMatch((await get('/status')).body, 'store-unavailable');
});
