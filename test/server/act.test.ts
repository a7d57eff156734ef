// /act/{token} through the real daemon, engine and store: the link from a delivered alert acknowledges,
// notes and resolves; forged, expired and other-incident tokens get 403 and change nothing.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { ACTION_TOKEN_TTL_MS, actionTokenFor } from '../../src/action-token.js';
import { Daemon } from '../../src/daemon.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { httpTestProbe, testConfig } from '../helpers/config.js';
import { unusedPort } from '../helpers/http-servers.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const SECRET = 'act-test-secret-3f9c1e7a5b2d4c6e8f0a1b3c';
const PUBLIC = 'http://vigil.test';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

t.test('acting from an alert link', { timeout: 60_000 }, async (t) => {
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const dir = tmpDir(t);
  const failing = `http://127.0.0.1:${await unusedPort()}/health`;
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url: failing }), intervalMs: 200, timeoutMs: 150, failureThreshold: 1 };
  const base = testConfig();
  const config = testConfig({
    server: { ...base.server, publicUrl: PUBLIC, actionSecret: SECRET },
    store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 },
    alerts: { ...base.alerts, discord: { errors: discord.webhook('errors'), warnings: null, ops: discord.webhook('ops') } },
    probes: [probe],
  });
  const logged: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) });
  const daemon = await Daemon.start({ config, log, version: 'test', listen: false });
  t.teardown(() => daemon.stop());

  const alert = await waitFor(() => discord.accepted('ops').find((m) => m.payload.content?.startsWith('[INCIDENT]')), 15_000, () => 'no [INCIDENT] in #ops');
  const buttons = alert.payload.components[0].components as Array<{ label: string; url: string }>;
  t.same(buttons.map((b) => b.label), ['Acknowledge', 'Open']);
  const embed = await waitFor(() => discord.accepted('errors')[0], 15_000, () => 'no embed in #errors');
  t.same(embed.payload.components[0].components.map((b: { label: string }) => b.label), ['Acknowledge', 'Open'], 'the #errors embed carries them too');
  const link = new URL(buttons[0]!.url);
  t.equal(link.origin, PUBLIC);
  const path = link.pathname;
  const token = path.slice('/act/'.length);
  const id = [...daemon.state.incidents.values()][0]!.id;
  t.equal(buttons[1]!.url, `${PUBLIC}/status/incidents/${id}`);

  const get = await daemon.app.inject({ method: 'GET', url: path, headers: { cookie: 'other=1; vigil_name=Ana%20P' } });
  t.equal(get.statusCode, 200);
  const csp = String(get.headers['content-security-policy']);
  t.match(csp, "form-action 'self'");
  t.notMatch(csp, /script-src/, 'no script allowed: the page needs none');
  t.match(csp, "default-src 'none'");
  t.notMatch(get.body, /<script/i);
  t.match(get.body, `<form method="post" action="${path}"`);
  t.match(get.body, 'value="Ana P"', 'the remembered name is filled in');
  t.match(get.body, /<button type="submit" name="action" value="ack"[^>]*>Acknowledge<\/button>/);
  t.match(get.body, 'Backend API down');

  const stateOf = () => daemon.store.getIncident(id)!;
  const timelineLength = stateOf().timeline.length;
  const post = (url: string, body: Record<string, string>) => daemon.app.inject({ method: 'POST', url, headers: form, payload: new URLSearchParams(body).toString() });
  const ack = { action: 'ack', incident: String(id), by: 'Ana', text: '' };

  // Refused links: 403, a page that says why, nothing changed.
  const [payload, signature] = token.split('.') as [string, string];
  const tampered = `${Buffer.from(JSON.stringify({ v: 1, i: id, e: Math.floor(Date.now() / 1000) + 30 * 86_400 })).toString('base64url')}.${signature}`;
  const expired = actionTokenFor(SECRET, id, Date.now() - ACTION_TOKEN_TTL_MS - 1_000);
  const otherKey = actionTokenFor('someone-elses-secret-of-enough-length-00', id, Date.now());
  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    [`/act/${tampered}`, ack, /not signed by this vigil, or it was changed/],
    [`/act/${payload}.${signature.slice(1)}x`, ack, /not a vigil action link|not signed by this vigil/],
    [`/act/${expired}`, ack, /expired/],
    [`/act/${otherKey}`, ack, /not signed by this vigil/],
    [path, { ...ack, incident: String(id + 1) }, /made for another incident/],
  ];
  for (const [url, body, why] of refusals) {
    const res = await post(url, body);
    t.equal(res.statusCode, 403, `POST ${why}`);
    t.match(res.body, why);
    t.match(res.body, 'Nothing was changed');
    t.notOk(res.headers['set-cookie'], 'no cookie for a refused link');
  }
  t.equal((await daemon.app.inject({ method: 'GET', url: `/act/${expired}` })).statusCode, 403, 'GET of an expired link');
  t.equal((await daemon.app.inject({ method: 'GET', url: `/act/${tampered}` })).statusCode, 403, 'GET of a tampered link');
  t.equal((await daemon.app.inject({ method: 'GET', url: '/act/garbage' })).statusCode, 403);

  const noName = await post(path, { ...ack, by: '   ' });
  t.equal(noName.statusCode, 400, 'a name is needed');
  t.match(noName.body, 'Your name: expected a non-empty name');
  const emptyNote = await post(path, { ...ack, action: 'note' });
  t.equal(emptyNote.statusCode, 400);
  t.match(emptyNote.body, 'Write the note first');
  t.match(stateOf(), { state: 'open', timeline: { length: timelineLength } }, 'nothing changed by any of them');

  const done = await post(path, ack);
  t.equal(done.statusCode, 303);
  t.equal(done.headers.location, `/status/incidents/${id}`);
  t.match(String(done.headers['set-cookie']), /^vigil_name=Ana; Path=\/act; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  t.match(stateOf(), { state: 'acknowledged', acknowledgedBy: 'Ana' });
  const acked = await waitFor(() => discord.accepted('ops').find((m) => m.payload.content?.startsWith('[ACK]')), 15_000, () => 'no [ACK] in #ops');
  t.equal(acked.payload.content, '[ACK] S1 - Backend API down on production. Acknowledged by Ana.');
  t.notOk(acked.payload.components, 'an [ACK] carries no buttons');

  const again = await post(path, ack);
  t.equal(again.statusCode, 409);
  t.match(again.body, `incident ${id} is already acknowledged`);

  t.equal((await post(path, { action: 'note', incident: String(id), by: 'Ana', text: 'restarting the API container' })).statusCode, 303);
  t.match(stateOf().timeline.at(-1), { event: 'note', by: 'Ana', detail: 'restarting the API container' });
  const resolved = await post(path, { action: 'resolve', incident: String(id), by: 'Ben', text: 'bad deploy rolled back' });
  t.equal(resolved.statusCode, 303);
  t.match(stateOf(), { state: 'resolved' });
  t.match(stateOf().timeline.filter((e) => e.by === 'Ben').map((e) => e.event), ['note', 'resolved']);

  const incidentPage = await daemon.app.inject({ method: 'GET', url: `/status/incidents/${id}` });
  t.notMatch(incidentPage.body, 'How to acknowledge', 'a resolved incident needs no acknowledging');
  t.notOk(logged.some((line) => line.includes(token) || line.includes(SECRET)), 'neither the token nor the secret reaches the log');
  t.ok(logged.some((line) => line.includes('/act/[token]')), 'the request is logged without its token');
});

t.test('the incident page says how to acknowledge; /act is off without a secret', async (t) => {
  const base = testConfig();
  const config = testConfig({ server: { ...base.server, publicUrl: PUBLIC, actionSecret: SECRET }, probes: base.probes.map((p) => ({ ...p, enabled: false })) });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  daemon.store.apply({
    subjects: [],
    incidents: [{ id: 5, state: 'open', severity: 'S1', environment: 'production', service: 'backend', summary: 'Backend API down', rootProbe: 'backend-health', rootKey: 'backend-health', symptoms: [], openedAt: Date.now(), acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, respondBy: null, lastReminderAt: null, message: 'refused', timeline: [], evidence: [] }],
    timeline: [],
    messages: [],
    events: [],
  });
  const page = await daemon.app.inject({ method: 'GET', url: '/status/incidents/5' });
  t.match(page.body, /id="how-to-ack"[^]*press <strong>Acknowledge<\/strong> under the alert in Discord[^]*vigil ack 5 --by NAME/);
  t.match(String(page.headers['content-security-policy']), "form-action 'none'", 'pages without a form keep form-action none');

  const off = await Daemon.start({ config: testConfig({ probes: [] }), log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => off.stop());
  const res = await off.app.inject({ method: 'GET', url: `/act/${actionTokenFor(SECRET, 5, Date.now())}` });
  t.equal(res.statusCode, 404);
  t.match(res.body, 'Action links are not enabled');
});
