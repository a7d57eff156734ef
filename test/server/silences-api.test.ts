// /api/silences through the real daemon, engine and store: validation, a silenced failure recorded but not
// paged, paged once the silence is expired, and a silence that outlives a restart.
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import type { Config } from '../../src/config/types.js';
import { Daemon } from '../../src/daemon.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { httpTestProbe, testConfig } from '../helpers/config.js';
import { unusedPort } from '../helpers/http-servers.js';
import { tmpDir, type HasTeardown } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const TOKEN = 'tok_silences_9f3a7c21d8e4';
const auth = { authorization: `Bearer ${TOKEN}` };

async function setup(t: HasTeardown): Promise<{ config: Config; discord: FakeDiscord }> {
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const dir = tmpDir(t);
  const failing = `http://127.0.0.1:${await unusedPort()}/health`;
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url: failing }), intervalMs: 200, timeoutMs: 150, failureThreshold: 1 };
  const base = testConfig();
  const config = testConfig({
    server: { ...base.server, apiToken: TOKEN },
    store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 },
    alerts: { ...base.alerts, discord: { errors: discord.webhook('errors'), warnings: null, ops: discord.webhook('ops') } },
    probes: [probe, httpTestProbe({ id: 'compute-health', service: 'compute', enabled: false })],
  });
  return { config, discord };
}

t.test('bad silences get a 400 naming the field; writes need the token', async (t) => {
  const { config } = await setup(t);
  // Probes known to the config but not run: nothing opens while the API is exercised.
  const idle = { ...config, probes: config.probes.map((p) => ({ ...p, enabled: false })) };
  const daemon = await Daemon.start({ config: idle, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const post = (payload: unknown, headers: Record<string, string> = auth) => daemon.app.inject({ method: 'POST', url: '/api/silences', headers, payload: payload as object });
  const good = { matchers: { probe: 'backend-health' }, duration: '2h', reason: 'deploy 2.4', by: 'alice' };

  t.equal((await post(good, {})).statusCode, 401, 'no token');
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, matchers: {} }, /^body\.matchers: expected at least one of "probe", "service", "environment"/],
    [{ ...good, matchers: { host: 'x' } }, /^body\.matchers: /],
    [{ ...good, matchers: { probe: 'no-such-probe' } }, /^body\.matchers\.probe: no probe "no-such-probe" in the config/],
    [{ ...good, matchers: { environment: 'qa' } }, /^body\.matchers\.environment: no environment "qa" in the config \(known: production, staging\)/],
    [{ ...good, matchers: { service: 5 } }, /^body\.matchers\.service: /],
    [{ ...good, duration: 'soon' }, /^body\.duration: expected a duration like "2h", got "soon"/],
    [{ ...good, duration: '0s' }, /^body\.duration: expected a duration like "2h", got "0s"/],
    [{ ...good, duration: '45d' }, /^body\.duration: expected at most 30d/],
    [{ ...good, reason: ' ' }, /^body\.reason: expected a non-empty reason/],
    [{ ...good, by: undefined }, /^body\.by: /],
  ];
  for (const [payload, message] of cases) {
    const res = await post(payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.match(res.json().error.message, message);
  }
  t.same((await daemon.app.inject({ method: 'GET', url: '/api/silences' })).json(), { silences: [] }, 'nothing was stored');

  const created = await post(good);
  t.equal(created.statusCode, 201);
  const body = created.json();
  t.match(body, { id: 1, matchers: { probe: 'backend-health' }, reason: 'deploy 2.4', by: 'alice', state: 'active', expired_by: null });
  t.equal(Date.parse(body.ends_at) - Date.parse(body.starts_at), 2 * 3_600_000);
  t.equal((await daemon.app.inject({ method: 'DELETE', url: '/api/silences/1', payload: { by: 'bob' } })).statusCode, 401, 'expiry needs the token');
  t.equal((await daemon.app.inject({ method: 'DELETE', url: '/api/silences/9', headers: auth, payload: { by: 'bob' } })).statusCode, 404);
  const expired = await daemon.app.inject({ method: 'DELETE', url: '/api/silences/1?by=bob', headers: auth });
  t.equal(expired.statusCode, 200, 'by may come in the query');
  t.match(expired.json(), { id: 1, state: 'expired', expired_by: 'bob' });
  t.equal((await daemon.app.inject({ method: 'DELETE', url: '/api/silences/1', headers: auth, payload: { by: 'bob' } })).statusCode, 409, 'already over');
  t.same((await daemon.app.inject({ method: 'GET', url: '/api/silences' })).json().silences, [], 'none in force');
  t.equal((await daemon.app.inject({ method: 'GET', url: '/api/silences?state=all' })).json().silences.length, 1);
});

t.test('a silenced failing probe is recorded, not paged, across a restart, and pages when the silence is expired', { timeout: 60_000 }, async (t) => {
  const { config, discord } = await setup(t);
  const quiet = await Daemon.start({ config: { ...config, probes: [] }, log: pino({ enabled: false }), version: 'test', listen: false });
  const added = await quiet.app.inject({ method: 'POST', url: '/api/silences', headers: auth, payload: { matchers: { service: 'backend', environment: 'production' }, duration: '1h', reason: 'deploy 2.4', by: 'alice' } });
  t.equal(added.statusCode, 201);
  await quiet.stop();

  // A new daemon on the same store: the silence is read back and holds the incident's pages.
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await daemon.stop();
  });
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 15_000, () => 'no incident opened');
  t.match(incident, { state: 'open', maintenance: 'silence #1', respondBy: null });
  t.match(incident.timeline[0]?.detail, /^Under silence #1 \(deploy 2\.4, by alice; service=backend, environment=production\), not paged until it ends/);
  const page = await daemon.app.inject({ method: 'GET', url: '/status' });
  t.match(page.body, /id="silence-1"[^]*service=backend, environment=production[^]*deploy 2\.4[^]*by alice/, '/status shows the silence');
  t.equal(daemon.store.pendingCount(), 0, 'nothing waits to be sent');
  t.same(discord.accepted('ops'), [], 'and nothing was sent');

  const expired = await daemon.app.inject({ method: 'DELETE', url: '/api/silences/1', headers: auth, payload: { by: 'bob' } });
  t.equal(expired.statusCode, 200);
  const paged = await waitFor(() => discord.accepted('ops')[0], 15_000, () => 'no page after the silence was expired');
  t.equal(paged.payload.content, '[INCIDENT] S1 - Backend API down on production. Investigating.');
  t.match(daemon.state.incidents.get(incident.id), { maintenance: null, respondBy: Number });
  t.match(daemon.store.getIncident(incident.id)?.timeline.at(-1), { event: 'opened', detail: /^Still failing after silence #1 ended/ });
  stopped = true;
  await daemon.stop();
});
