// /status and /api/status render once per state: repeated reads share a rendering until what they show
// of the engine state, the config or the silences change, or the clock moves past the render age limit; a kept page and its gzip are the same bytes for every response.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { engineConfigOf } from '../../src/daemon.js';
import { command, initialState } from '../../src/incidents/engine.js';
import type { Command, EngineState } from '../../src/incidents/state.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { acceptsGzip } from '../../src/server/gzip-kept.js';
import { RENDER_MAX_AGE_MS, showsChange } from '../../src/server/render-cache.js';
import { SilenceBook } from '../../src/silence-book.js';
import { openStore } from '../../src/store/sqlite.js';
import { testConfig, withApiToken } from '../helpers/config.js';
import { makeIncident, NOW, subject } from './harness.js';

const TOKEN = 'tok_0c41d7be93a25f86e1b7c3d9';
const auth = { authorization: `Bearer ${TOKEN}` };

function setup(t: Test) {
  const config = withApiToken(testConfig(), TOKEN);
  const store = openStore(':memory:');
  const incident = makeIncident({ id: 1 });
  store.apply({ subjects: [], incidents: [incident], timeline: incident.timeline.map((entry) => ({ incidentId: 1, entry })), messages: [], events: [] });
  // Like the daemon: one state object, replaced (never changed) by each engine change.
  let state: EngineState = initialState({ subjects: [subject('backend-health', false, { incidentId: 1 })], incidents: [incident], nextIncidentId: 2 });
  let clock = NOW;
  const now = () => clock;
  const silences = new SilenceBook({ store, now });
  const engineCfg = engineConfigOf(config);
  // Each render reads the uptime (/status) or the messages given up (both pages) from the store exactly once.
  const reads = { uptime: 0, dead: 0 };
  const uptime = store.uptime.bind(store);
  const deadMessages = store.deadMessages.bind(store);
  store.uptime = (since) => {
    reads.uptime++;
    return uptime(since);
  };
  store.deadMessages = (since, limit) => {
    reads.dead++;
    return deadMessages(since, limit);
  };
  const app = buildApp({
    config,
    store,
    metrics: createMetrics('test'),
    log: createLogger({ level: 'silent', destination: { write: () => undefined } }),
    engineState: () => state,
    dispatch: (cmd: Command) => {
      const result = command(state, cmd, now(), engineCfg);
      if (result.ok) {
        store.apply({ ...result.changed, messages: [], events: result.events });
        state = result.state;
      }
      return result;
    },
    silences,
    health: () => ({ scheduler: true, store: true, ready: true }),
    now,
  });
  t.teardown(async () => {
    await app.close();
    store.close();
  });
  return {
    app,
    reads,
    tick: (ms: number) => {
      clock += ms;
    },
  };
}

/** The style-src hash a browser would accept for this page's one inline <style>, computed from the page. */
function styleHashOf(html: string): string {
  const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
  if (css === undefined) throw new Error('no <style> element');
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

t.test('/status: read twice, rendered once, the same bytes and the same policy each time', async (t) => {
  const { app, reads, tick } = setup(t);
  const first = await app.inject({ url: '/status' });
  tick(RENDER_MAX_AGE_MS / 2);
  const second = await app.inject({ url: '/status' });
  t.equal(first.statusCode, 200);
  t.equal(reads.uptime, 1, 'one render for two reads of the same state');
  t.ok(first.rawPayload.equals(second.rawPayload), 'the kept page, byte for byte');
  t.equal(first.headers['content-security-policy'], second.headers['content-security-policy']);
  for (const res of [first, second]) {
    const csp = String(res.headers['content-security-policy']);
    t.equal(/style-src ('[^;]+')/.exec(csp)?.[1], styleHashOf(res.body), 'style-src is the hash of the page’s <style> text');
    t.notMatch(csp, /nonce/i);
    t.notMatch(res.body, /nonce/i);
  }
});

t.test('/status renders again after an ack, a silence, or once the rendering is older than the limit', async (t) => {
  const { app, reads, tick } = setup(t);
  t.notMatch((await app.inject({ url: '/status' })).body, 'Acknowledged');
  const ack = await app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: auth, payload: { by: 'alice' } });
  t.equal(ack.statusCode, 200);
  const acked = await app.inject({ url: '/status' });
  t.equal(reads.uptime, 2, 'the ack changed the state: rendered again');
  t.match(acked.body, 'alice', 'the page shows who acknowledged');

  const silenced = await app.inject({ method: 'POST', url: '/api/silences', headers: auth, payload: { matchers: { service: 'backend' }, duration: '1h', reason: 'deploy 2.4', by: 'bob' } });
  t.equal(silenced.statusCode, 201);
  t.match((await app.inject({ url: '/status' })).body, 'deploy 2.4', 'the new silence is on the page at once');
  t.equal(reads.uptime, 3);

  await app.inject({ url: '/status' });
  t.equal(reads.uptime, 3, 'nothing changed: the kept page');
  tick(RENDER_MAX_AGE_MS);
  await app.inject({ url: '/status' });
  t.equal(reads.uptime, 4, 'older than the limit: rendered again for the clock (last checked, open for …)');
});

t.test('/api/status: read twice, serialized once; a note re-renders', async (t) => {
  const { app, reads, tick } = setup(t);
  const first = await app.inject({ url: '/api/status' });
  tick(RENDER_MAX_AGE_MS / 2);
  const second = await app.inject({ url: '/api/status' });
  t.equal(reads.dead, 1, 'one render for two reads');
  t.equal(first.headers['content-type'], 'application/json; charset=utf-8');
  t.same(second.json(), first.json(), 'the same document, generated_at included');
  t.equal(first.json().open_incidents[0].timeline.length, 1);

  const note = await app.inject({ method: 'POST', url: '/api/incidents/1/notes', headers: auth, payload: { by: 'alice', text: 'restarting the API' } });
  t.equal(note.statusCode, 200);
  const after = await app.inject({ url: '/api/status' });
  t.equal(reads.dead, 2, 'the note changed the state: rendered again');
  t.equal(after.json().open_incidents[0].timeline.length, 2, 'the note is in the timeline');
});

t.test('a browser asking for gzip gets the kept page compressed once, the same bytes for every response', async (t) => {
  const { app } = setup(t);
  const gzip = { 'accept-encoding': 'gzip, deflate, br' };
  const plain = await app.inject({ url: '/status' });
  const [first, second] = [await app.inject({ url: '/status', headers: gzip }), await app.inject({ url: '/status', headers: gzip })];
  for (const res of [first, second]) {
    t.equal(res.headers['content-encoding'], 'gzip');
    t.equal(res.headers.vary, 'accept-encoding');
    t.ok(res.rawPayload.length < plain.rawPayload.length / 2, `compressed: ${res.rawPayload.length} of ${plain.rawPayload.length} bytes`);
    t.ok(gunzipSync(res.rawPayload).equals(plain.rawPayload), 'gunzipped, the uncompressed page byte for byte');
    t.equal(res.headers['content-security-policy'], plain.headers['content-security-policy'], 'the same policy either way');
  }
  t.ok(first.rawPayload.equals(second.rawPayload), 'the kept gzip, byte for byte');
  t.equal(/style-src ('[^;]+')/.exec(String(first.headers['content-security-policy']))?.[1], styleHashOf(gunzipSync(first.rawPayload).toString('utf8')));
  t.equal(plain.headers['content-encoding'], undefined, 'without Accept-Encoding: identity');

  const json = await app.inject({ url: '/api/status', headers: { 'accept-encoding': 'gzip' } });
  t.equal(json.headers['content-encoding'], 'gzip');
  t.same(JSON.parse(gunzipSync(json.rawPayload).toString('utf8')), (await app.inject({ url: '/api/status' })).json());
});

t.test('Accept-Encoding: gzip named or *, unless its q is 0', async (t) => {
  t.ok(acceptsGzip('gzip, deflate, br'));
  t.ok(acceptsGzip('br;q=1.0, gzip;q=0.8'));
  t.ok(acceptsGzip('*'));
  t.ok(acceptsGzip(['deflate', 'GZIP']));
  t.notOk(acceptsGzip('gzip;q=0'));
  t.notOk(acceptsGzip('identity, deflate'));
  t.notOk(acceptsGzip(undefined));
});

t.test('showsChange: a streak counter climbing shows nothing; health, since, severity, incident, a new subject or an incident change do', async (t) => {
  const failing = subject('backend-health', false, { failures: 1 });
  const before = initialState({ subjects: [failing, subject('webapp-health', true)], incidents: [], nextIncidentId: 1 });
  const change = (subjects: ReturnType<typeof subject>[], more: Partial<Parameters<typeof showsChange>[1]> = {}) => showsChange(before, { subjects, incidents: [], timeline: [], ...more });
  t.equal(change([]), false, 'nothing changed');
  t.equal(change([{ ...failing, failures: 2 }]), false, 'one more failure towards the threshold');
  t.equal(change([subject('webapp-health', true, { successes: 3 })]), false, 'one more pass');
  t.equal(change([{ ...failing, ok: true }]), true, 'health');
  t.equal(change([{ ...failing, since: failing.since + 1 }]), true, 'since');
  t.equal(change([{ ...failing, severity: 'S1' }]), true, 'severity');
  t.equal(change([{ ...failing, incidentId: 3 }]), true, 'joined an incident');
  t.equal(change([subject('backend-health:tls', true)]), true, 'a new subject');
  const incident = makeIncident({ id: 1 });
  t.equal(change([], { incidents: [incident] }), true, 'an incident');
  t.equal(change([], { timeline: [{ incidentId: 1, entry: incident.timeline[0]! }] }), true, 'a timeline entry');
});
