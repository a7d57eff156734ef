// POST ack/resolve/notes through inject() into the real engine and store: bearer auth, body validation, results mapped to status codes.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { Daemon } from '../../src/daemon.js';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';
import { checkBearer } from '../../src/server/auth.js';
import { testConfig, withApiToken } from '../helpers/config.js';
import { harness, makeIncident, NOW } from './harness.js';

const TOKEN = 'tok_3f9a1c7e5b2d4068a1f0c9e8';
const bearer = { authorization: `Bearer ${TOKEN}` };

function withToken() {
  const h = harness({ config: withApiToken(testConfig(), TOKEN) });
  h.seed(makeIncident({ id: 1 }));
  h.seed(makeIncident({ id: 2, state: 'resolved', resolvedAt: NOW - 1000 }));
  return h;
}

t.test('checkBearer judges the header without regard to how wrong it is', async (t) => {
  t.equal(checkBearer(undefined, TOKEN), 'missing');
  t.equal(checkBearer('', TOKEN), 'missing');
  t.equal(checkBearer(`Bearer ${TOKEN}`, TOKEN), 'ok');
  t.equal(checkBearer(`bearer ${TOKEN}`, TOKEN), 'ok', 'the scheme is case-insensitive');
  t.equal(checkBearer(`Basic ${TOKEN}`, TOKEN), 'malformed');
  t.equal(checkBearer('Bearer', TOKEN), 'malformed');
  t.equal(checkBearer('Bearer a b', TOKEN), 'malformed');
  t.equal(checkBearer(['Bearer x', 'Bearer y'], TOKEN), 'malformed');
  t.equal(checkBearer(`Bearer ${TOKEN}x`, TOKEN), 'wrong', 'a longer token is simply wrong');
  t.equal(checkBearer('Bearer x', TOKEN), 'wrong', 'a shorter one too');
});

t.test('writes are refused with 401 and a Bearer challenge without the right token', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  const cases: Array<[string, Record<string, string>]> = [
    ['none', {}],
    ['malformed', { authorization: `Token ${TOKEN}` }],
    ['basic', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['wrong', { authorization: 'Bearer not-the-token' }],
  ];
  for (const [name, headers] of cases) {
    const res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers, payload: { by: 'alice' } });
    t.equal(res.statusCode, 401, name);
    t.match(res.headers['www-authenticate'], /^Bearer realm="vigil"/, `${name} challenge`);
    t.equal(res.json().error.code, 'unauthorized', `${name} code`);
  }
  t.same(h.dispatched, [], 'nothing reached the engine');
  t.equal(h.store.getIncident(1)?.state, 'open');
});

t.test('an unauthenticated request is refused before its body is looked at', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/incidents/abc/ack',
    headers: { 'content-type': 'application/json' },
    payload: '{not json',
  });
  t.equal(res.statusCode, 401);
});

t.test('writes are 403 writes_disabled when no token is configured, whatever is sent', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.seed(makeIncident({ id: 1 }));
  for (const headers of [{}, bearer]) {
    const res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers, payload: { by: 'alice' } });
    t.equal(res.statusCode, 403);
    t.equal(res.json().error.code, 'writes_disabled');
  }
  t.same(h.dispatched, []);
});

t.test('ack with the token answers 200 with the acknowledged incident', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  const res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: '  alice ' } });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.match(body, { id: 1, state: 'acknowledged', acknowledged_by: 'alice', acknowledged_at: new Date(NOW).toISOString() });
  t.same(body.timeline.at(-1), { at: new Date(NOW).toISOString(), event: 'acknowledged', by: 'alice', detail: 'Acknowledged by alice after 5m' });
  t.equal(body.timeline.length, 2, 'one entry added to the opening');
  t.same(h.dispatched, [{ type: 'ack', incidentId: 1, by: 'alice' }], 'the name is trimmed');
  const stored = h.store.getIncident(1);
  t.equal(stored?.state, 'acknowledged', 'written to the store');
  t.equal(stored?.acknowledgedBy, 'alice');
  t.same(stored?.timeline.map((e) => e.event), ['opened', 'acknowledged'], 'the timeline in the store too');
  t.equal(h.incidents.get(1)?.state, 'acknowledged', 'and the engine state moved with it');
  t.ok(h.logs.some((l) => l.includes('"write request"') && l.includes('"statusCode":200')), 'the write is logged');
});

t.test('unknown incidents are 404, a state that forbids the command 409', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  let res = await h.app.inject({ method: 'POST', url: '/api/incidents/77/ack', headers: bearer, payload: { by: 'alice' } });
  t.equal(res.statusCode, 404);
  t.equal(res.json().error.code, 'not_found');
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/2/ack', headers: bearer, payload: { by: 'alice' } });
  t.equal(res.statusCode, 409);
  t.same(res.json(), { error: { code: 'conflict', message: 'incident 2 is already resolved' } });
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/2/resolve', headers: bearer, payload: { by: 'alice' } });
  t.equal(res.statusCode, 409);
  t.same(res.json(), { error: { code: 'conflict', message: 'incident 2 is already resolved' } });
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: 'alice' } });
  t.equal(res.statusCode, 200);
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: 'bob' } });
  t.equal(res.statusCode, 409, 'a second ack is a conflict');
  t.same(res.json(), { error: { code: 'conflict', message: 'incident 1 is already acknowledged' } });
  t.equal(h.store.getIncident(1)?.acknowledgedBy, 'alice', 'the first ack stands');
});

t.test('resolve carries the note and notes carry the text', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  let res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/notes', headers: bearer, payload: { by: 'bob', text: 'restarting the db' } });
  t.equal(res.statusCode, 200);
  t.same(res.json().timeline.at(-1), { at: new Date(NOW).toISOString(), event: 'note', by: 'bob', detail: 'restarting the db' });
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/resolve', headers: bearer, payload: { by: 'bob', note: 'disk was full' } });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { state: 'resolved', resolved_at: new Date(NOW).toISOString() });
  t.same(
    res.json().timeline.slice(2),
    [
      { at: new Date(NOW).toISOString(), event: 'note', by: 'bob', detail: 'disk was full' },
      { at: new Date(NOW).toISOString(), event: 'resolved', by: 'bob', detail: 'Resolved by bob after 5m' },
      { at: new Date(NOW).toISOString(), event: 'review', detail: 'Post-incident review draft: run "vigil review 1"' },
    ],
    'the note, the resolution and the S1 review, in the engine\'s words',
  );
  t.same(h.store.getIncident(1)?.timeline.map((e) => e.event), ['opened', 'note', 'note', 'resolved', 'review'], 'all of it stored');
  t.same(h.dispatched.at(-1), { type: 'resolve', incidentId: 1, by: 'bob', note: 'disk was full' });
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/2/notes', headers: bearer, payload: { by: 'bob', text: 'post-mortem on Monday' } });
  t.equal(res.statusCode, 200, 'a recently resolved incident still takes notes');
  t.same(h.store.getIncident(2)?.timeline.at(-1), { at: NOW, event: 'note', by: 'bob', detail: 'post-mortem on Monday' });
});

t.test('bad bodies and ids are 400 with a message naming the field', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  const cases: Array<[string, unknown, RegExp]> = [
    ['/api/incidents/1/ack', {}, /body\.by: /],
    ['/api/incidents/1/ack', { by: '' }, /body\.by: expected a non-empty name/],
    ['/api/incidents/1/ack', { by: '   ' }, /body\.by: expected a non-empty name/],
    ['/api/incidents/1/ack', { by: 'x'.repeat(101) }, /at most 100/],
    ['/api/incidents/1/ack', { by: 'al\nice' }, /control characters/],
    ['/api/incidents/1/ack', { by: 42 }, /body\.by/],
    ['/api/incidents/1/ack', { by: 'alice', extra: 1 }, /extra/],
    ['/api/incidents/1/notes', { by: 'alice' }, /body\.text/],
    ['/api/incidents/1/notes', { by: 'alice', text: 'y'.repeat(4001) }, /at most 4000/],
    ['/api/incidents/1/resolve', { by: 'alice', note: 'z'.repeat(4001) }, /body\.note/],
    ['/api/incidents/x/ack', { by: 'alice' }, /params\.id/],
  ];
  for (const [url, payload, message] of cases) {
    const res = await h.app.inject({ method: 'POST', url, headers: bearer, payload: payload as object });
    t.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload).slice(0, 40)}`);
    t.equal(res.json().error.code, 'bad_request');
    t.match(res.json().error.message, message);
  }
  let res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"by":' });
  t.equal(res.statusCode, 400, 'broken JSON');
  t.equal(res.json().error.code, 'bad_request');
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer });
  t.equal(res.statusCode, 400, 'no body');
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: { ...bearer, 'content-type': 'text/plain' }, payload: 'alice' });
  t.equal(res.statusCode, 415);
  t.equal(res.json().error.code, 'unsupported_media_type');
  res = await h.app.inject({ method: 'POST', url: '/api/incidents/1/notes', headers: bearer, payload: { by: 'a', text: 'q'.repeat(70_000) } });
  t.equal(res.statusCode, 413);
  t.equal(res.json().error.code, 'payload_too_large');
  t.same(h.dispatched, [], 'nothing invalid reached the engine');
});

t.test('the token never reaches the log, right or wrong', async (t) => {
  const h = withToken();
  t.teardown(h.close);
  await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: 'alice' } });
  await h.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: { authorization: `Bearer ${TOKEN}-wrong` }, payload: { by: 'alice' } });
  t.ok(h.logs.length > 0, 'something was logged');
  t.notOk(h.logs.some((l) => l.includes(TOKEN)), 'no log line holds the token');
  // Should any code log the headers, the app's logger redacts the Authorization header.
  h.app.log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'headers seen');
  const line = h.logs.find((l) => l.includes('headers seen'));
  t.match(line, /"authorization":"\[redacted\]"/);
  t.notOk(line?.includes(TOKEN));
});

t.test('through a running daemon: an ack is kept, answered and announced', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'vigil.db');
  const seeded = openStore(path);
  const open = makeIncident({ id: 1 });
  seeded.apply({ subjects: [], incidents: [open], timeline: open.timeline.map((entry) => ({ incidentId: 1, entry })), messages: [], events: [] });
  seeded.close();
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info', base: null }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const config = withApiToken(testConfig({ store: { path, retentionMs: 86_400_000 }, probes: [] }), TOKEN);
  const daemon = await Daemon.start({ config, log, version: 'test', listen: false, now: () => NOW });
  t.teardown(() => daemon.stop());
  const res = await daemon.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: 'alice' } });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { id: 1, state: 'acknowledged', acknowledged_by: 'alice' });
  t.equal(daemon.state.incidents.get(1)?.state, 'acknowledged', 'the engine holds the ack');
  t.same(daemon.store.getIncident(1)?.timeline.map((e) => e.event), ['opened', 'acknowledged'], 'the store too');
  const announced = await waitFor(() => lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('[ACK]')), 20_000, () => 'no [ACK] line went out');
  t.equal(announced.msg, '[ACK] S1 - Backend API down on production. Acknowledged by alice.');
  const again = await daemon.app.inject({ method: 'POST', url: '/api/incidents/1/ack', headers: bearer, payload: { by: 'bob' } });
  t.equal(again.statusCode, 409);
  t.same(again.json(), { error: { code: 'conflict', message: 'incident 1 is already acknowledged' } });
});
