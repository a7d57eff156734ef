// End to end: the real `vigil run` pages Better Stack on-call (the strict fake Uptime API) and a
// Discord role; an ack on the phone comes back as vigil's; a SIGKILL before delivery pages once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeBetterStackUptime } from '../helpers/fake-betterstack-uptime.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';
import { Target, api } from './alerts-fleet.js';
import { matchExactly } from '../helpers/match.js';

t.setTimeout(180_000);

const UPTIME_TOKEN = 'uptime-e2e-token-4242';
const API_TOKEN = 'vigil-e2e-api-token';
const ROLE = '112233445566778899';
const SYNC_MS = 1_000;

/** Timeouts of 2 s, not 400 ms, so a loaded machine does not fail the healthy target (see alertsConfig). */
function config(vigilPort: number, targetPort: number, dbPath: string, uptimeUrl: string): string {
  return `
server:
  listen: 127.0.0.1:${vigilPort}
  public_url: http://127.0.0.1:${vigilPort}
  api_token_env: VIGIL_API_TOKEN
store:
  path: ${dbPath}
defaults:
  interval: 2s
  timeout: 2s
environments:
  production: {}
alerts:
  discord:
    errors: { url_env: DISCORD_WEBHOOK_ERRORS }
    ops: { url_env: DISCORD_WEBHOOK_OPS, mention_role: "${ROLE}" }
  betterstack:
    oncall:
      api_token_env: BETTERSTACK_API_TOKEN
      api_url: ${uptimeUrl}
      requester_email: vigil@sartiq.com
      severities:
        S1: { call: true, sms: true, push: true, email: true, critical_alert: true }
      team_wait: 10m
      sync_interval: ${SYNC_MS}ms
probes:
  - id: backend-db
    type: http
    environment: production
    service: backend
    severity: S1
    summary: Backend DB unreachable
    url: http://127.0.0.1:${targetPort}/health
`;
}

async function fleet(t: { teardown(fn: () => unknown): void }, uptimeOpts: { rateLimitFirst?: number } = {}) {
  const dir = tmpDir(t, 'vigil-oncall-');
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target = new Target(targetPort);
  await target.up();
  t.teardown(() => target.down());
  const discord = await new FakeDiscord({ role: ROLE }).start();
  t.teardown(() => discord.close());
  const uptime = await new FakeBetterStackUptime({ token: UPTIME_TOKEN, ...uptimeOpts }).start();
  t.teardown(() => uptime.close());
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, config(vigilPort, targetPort, join(dir, 'vigil.db'), uptime.url));
  const env = {
    DISCORD_WEBHOOK_ERRORS: discord.webhook('errors'),
    DISCORD_WEBHOOK_OPS: discord.webhook('ops'),
    BETTERSTACK_API_TOKEN: UPTIME_TOKEN,
    VIGIL_API_TOKEN: API_TOKEN,
  };
  const start = async () => {
    const vigil = new VigilProcess(['run', '--config', file], env);
    t.teardown(() => vigil.kill('SIGKILL'));
    await vigil.ready(vigilPort);
    return vigil;
  };
  return { vigilPort, target, discord, uptime, start };
}

const opsLines = (discord: FakeDiscord) => discord.accepted('ops').map((a) => a.payload.content as string);

t.test('an S1 calls the person on call once; their ack on the phone reaches #ops; vigil resolves it there', async (t) => {
  const { vigilPort, target, discord, uptime, start } = await fleet(t, { rateLimitFirst: 1 });
  const vigil = await start();
  await target.down();
  await waitFor(() => uptime.incidents.size >= 1 && opsLines(discord).length >= 1, 30_000, () => JSON.stringify(uptime.calls));
  const [incident] = [...uptime.incidents.values()];
  t.match(incident!.created, {
    requester_email: 'vigil@sartiq.com',
    name: 'S1 · Backend DB unreachable · production',
    summary: '[INCIDENT] S1 - Backend DB unreachable on production. Investigating.',
    call: true, sms: true, push: true, email: true, critical_alert: true,
    team_wait: 600,
    description: new RegExp(`Incident: http://127\\.0\\.0\\.1:${vigilPort}/status/incidents/1\\n`),
  });
  t.strictSame(uptime.writes().slice(0, 2), ['POST /api/v3/incidents 429', 'POST /api/v3/incidents 201'], 'the 429 was waited out, then one create');

  const incidentLine = discord.accepted('ops')[0]!;
  t.equal(incidentLine.payload.content, `<@&${ROLE}> [INCIDENT] S1 - Backend DB unreachable on production. Investigating.`);
  t.strictSame(incidentLine.payload.allowed_mentions, { parse: [], roles: [ROLE] });
  t.strictSame(incidentLine.pinged, [`role:${ROLE}`], 'the role is pinged');

  const tapped = Date.now();
  uptime.acknowledgeFromPhone(incident!.id, 'alice@sartiq.com');
  const ack = '[ACK] S1 - Backend DB unreachable on production. Acknowledged by alice@sartiq.com (via Better Stack).';
  // One sync interval, plus a generous margin for a loaded machine.
  await waitFor(() => opsLines(discord).includes(ack), SYNC_MS + 9_000, () => JSON.stringify(opsLines(discord)));
  t.ok(Date.now() - tapped < SYNC_MS + 9_000);
  const acked = await api(vigilPort, '/api/incidents/1');
  t.match(acked.body, { state: 'acknowledged', timeline: [{}, { event: 'acknowledged', by: 'alice@sartiq.com', detail: /via Better Stack/ }] });

  const res = await fetch(`http://127.0.0.1:${vigilPort}/api/incidents/1/resolve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ by: 'bob', note: 'failed over' }),
  });
  // Back up before a second confirmed failure could reopen it (the resolve restarts the count).
  await target.up();
  t.equal(res.status, 200);
  await waitFor(() => uptime.incidents.get(incident!.id)!.resolvedAt !== null, 20_000, () => JSON.stringify(uptime.writes()));
  t.equal(uptime.incidents.get(incident!.id)!.resolvedBy, 'bob');
  await new Promise((r) => setTimeout(r, SYNC_MS * 2)); // a sync after the resolve must change nothing
  t.strictSame(uptime.writes(), ['POST /api/v3/incidents 429', 'POST /api/v3/incidents 201', `POST /api/v3/incidents/${incident!.id}/resolve 200`], 'the ack was not sent back; one resolve');
  t.equal(uptime.incidents.size, 1, 'exactly one Better Stack incident');

  const lines = opsLines(discord);
  t.equal(lines.filter((l) => l.startsWith(`<@&${ROLE}> `)).length, 1, `only the [INCIDENT] line pings: ${JSON.stringify(lines)}`);
  for (const a of discord.accepted('ops').slice(1)) {
    t.strictSame(a.payload.allowed_mentions, { parse: [] });
    t.strictSame(a.pinged, []);
  }
  for (const a of discord.accepted('errors')) t.strictSame(a.pinged, [], 'embeds ping nobody');
  t.strictSame(discord.rejected, [], 'the strict fake Discord refused nothing');
  const metrics = (await api(vigilPort, '/metrics')).body as string;
  t.match(metrics, /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="delivered"\} 3\n/, 'create, the ack (nothing left to send: the one acked there is skipped) and resolve');
  t.match(metrics, /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="rate_limited"\} 1\n/);
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
  t.notOk(vigil.stdout.includes(UPTIME_TOKEN) || vigil.stderr.includes(UPTIME_TOKEN), 'the token never reaches the log');
});

t.test('SIGKILL while Better Stack is down: after the restart the incident is created exactly once', async (t) => {
  const { target, uptime, start } = await fleet(t);
  uptime.unavailable = true;
  let vigil = await start();
  await target.down();
  await vigil.waitForLine((l) => /will retry/.test(l.msg) && l.sink === 'betterstack_oncall');
  t.equal(uptime.incidents.size, 0);
  vigil.kill('SIGKILL');
  await vigil.exited;
  uptime.unavailable = false;
  vigil = await start();
  await waitFor(() => uptime.incidents.size >= 1, 60_000, () => JSON.stringify(uptime.calls.slice(-5)));
  await new Promise((r) => setTimeout(r, 3 * SYNC_MS));
  t.equal(uptime.incidents.size, 1, 'one Better Stack incident');
  t.equal(uptime.writes().filter((w) => w.endsWith(' 201')).length, 1, 'one create accepted');
  t.equal(vigil.lines.filter((l) => l.event === 'opened').length, 0, 'the restart does not open it again');
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
});

t.test('a refused token is loud, given up, on /status and in the metrics', async (t) => {
  const { vigilPort, target, uptime, start } = await fleet(t);
  uptime.script(401);
  const vigil = await start();
  await target.down();
  const loud = await vigil.waitForLine((l) => /refused the API token/.test(l.msg));
  t.equal(loud.level, 'error');
  const status = await waitFor(async () => {
    const s = await api(vigilPort, '/api/status');
    return s.body.undelivered?.length > 0 ? s.body : null;
  }, 20_000);
  matchExactly(t, status.undelivered, [{ sink: 'betterstack_oncall', channel: 'oncall', incident_id: 1, event: 'opened', error: /401/ }]);
  const page = (await api(vigilPort, '/status')).body as string;
  t.match(page, /Messages given up \(1\)/);
  t.match((await api(vigilPort, '/metrics')).body, /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="rejected"\} 1\n/);
  vigil.kill('SIGTERM');
  await vigil.exited;
});
