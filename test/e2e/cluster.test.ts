// End to end: three real `vigil run` replicas on one embedded PostgreSQL, paging a strict fake Discord.
// An outage pages once; SIGKILL the leader mid-incident and another leads within two intervals and
// finishes the incident: nothing lost, at most one message twice. A replica cut off from the target
// while the others see it healthy pages nobody about the target, and one S3 about itself.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DISCORD_CHANNELS_YAML, FakeDiscord } from '../helpers/fake-discord.js';
import { startPostgres, type PgServer } from '../helpers/pg.js';
import { tmpDir, type HasTeardown } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';
import { Target, api } from './alerts-fleet.js';

t.setTimeout(300_000);

const INTERVAL_MS = 1_000;
/** Started in this order; vigil-c, the last, is the one cut off in the second test. */
const NAMES = ['vigil-a', 'vigil-b', 'vigil-c'] as const;
const API_TOKEN = 'cluster-e2e-token';

interface Replica {
  name: string;
  port: number;
  vigil: VigilProcess;
}

/**
 * Probes every second, as long as the cluster's interval: a replica that sees the outage first is alone
 * in failing until the others run again, and alone for two of the leader's judgements (one a second)
 * it is taken for cut off and pages an S3 of its own. With 2 s probe intervals that happened under load
 * ("[RESOLVED] S3 - vigil replica cut off …" beside the outage). The timeout is the whole interval: a
 * replica's run of the healthy target that times out counts as that replica seeing it fail, and a fresh
 * vigil's first runs took ~600 ms on a loaded 2-core machine. The target taken down is refused at once.
 */
function clusterConfig(c: { name: string; port: number; targetPort: number; escalateAfter: string }): string {
  return `
server:
  listen: 127.0.0.1:${c.port}
  api_token_env: VIGIL_API_TOKEN
store:
  postgres: { url_env: VIGIL_STORE_URL }
cluster:
  replica: ${c.name}
  quorum: majority
  interval: ${INTERVAL_MS}ms
defaults:
  interval: 1s
  timeout: 1s
  failure_threshold: 2
  success_threshold: 2
environments:
  production: {}
${DISCORD_CHANNELS_YAML}
probes:
  - id: backend-health
    type: http
    environment: production
    service: backend
    severity: S2
    summary: Backend API down
    url: http://127.0.0.1:${c.targetPort}/health
    expect: { json: { status: ok } }
    escalate: { after: ${c.escalateAfter}, severity: S1 }
  - id: backend-ready
    type: http
    environment: production
    service: backend
    severity: S2
    summary: Backend not ready
    url: http://127.0.0.1:${c.targetPort}/ready
    expect: { json: { status: ok } }
    depends_on: [backend-health]
`;
}

async function cluster(t: HasTeardown, pg: PgServer, discord: FakeDiscord, targetPorts: Record<string, number>, escalateAfter = '1h'): Promise<Replica[]> {
  const dir = tmpDir(t, 'vigil-cluster-');
  const replicas: Replica[] = [];
  for (const name of NAMES) {
    const port = await freePort();
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, clusterConfig({ name, port, targetPort: targetPorts[name]!, escalateAfter }));
    const vigil = new VigilProcess(['run', '--config', file], {
      VIGIL_STORE_URL: pg.superuserUrl,
      VIGIL_API_TOKEN: API_TOKEN,
      // One webhook of each channel for all three, as in production: they share the config's secrets.
      ...discord.channelEnv(),
    });
    t.teardown(() => {
      vigil.kill('SIGKILL');
      // VIGIL_E2E_DUMP=DIR keeps each replica's log there, for a failure to be read after the fact.
      if (process.env.VIGIL_E2E_DUMP) writeFileSync(join(process.env.VIGIL_E2E_DUMP, `${name}.log`), vigil.stdout + vigil.stderr);
    });
    replicas.push({ name, port, vigil });
    // One at a time, in order: the first ones have results in the store before the last one joins.
    await vigil.ready(port, 60_000);
  }
  return replicas;
}

async function leaderSeenBy(r: Replica): Promise<string | null> {
  const res = await api(r.port, '/api/cluster').catch(() => null);
  return res?.status === 200 ? (res.body.leader as string | null) : null;
}

/** The ops lines Discord accepted, without review notices. */
const opsLines = (discord: FakeDiscord) => discord.accepted('ops').map((a) => a.payload.content as string).filter((l) => !l.startsWith('[REVIEW]'));

t.test('an outage pages once; the leader SIGKILLed mid-incident is replaced within two intervals, nothing lost', async (t) => {
  const pg = await startPostgres(t, { maxConnections: 100 });
  const target = new Target(await freePort());
  await target.up();
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const replicas = await cluster(t, pg, discord, { 'vigil-a': target.port, 'vigil-b': target.port, 'vigil-c': target.port }, '6s');

  const leader = await waitFor(async () => {
    const seen = await Promise.all(replicas.map(leaderSeenBy));
    return seen.every((l) => l !== null && l === seen[0]) ? seen[0] : null;
  }, 30_000, () => 'the replicas never agreed on a leader');
  // vigil-a heard of the last replica to join at its next heartbeat.
  const status = await waitFor(async () => {
    const res = await api(replicas[0]!.port, '/api/cluster');
    return res.body.replicas?.length === NAMES.length ? res : null;
  }, 10_000, () => 'vigil-a never listed the three replicas');
  t.same(status.body.replicas.map((r: { name: string }) => r.name), [...NAMES], 'GET /api/cluster lists the three replicas');
  t.ok(status.body.replicas.every((r: { probes: number; last_seen: string }) => r.probes === 2 && !Number.isNaN(Date.parse(r.last_seen))), 'each with its probes and when it was last seen');
  const leading = replicas.find((r) => r.name === leader)!;
  const standby = replicas.find((r) => r.name !== leader)!;
  t.match((await api(leading.port, '/metrics')).body, new RegExp(`vigil_cluster_leader\\{replica="${leader}"\\} 1`), 'the leader says so in its metrics');
  t.match((await api(standby.port, '/metrics')).body, new RegExp(`vigil_cluster_leader\\{replica="${standby.name}"\\} 0`), 'a standby says it stands by');

  await target.down();
  // Both probes fail on every replica: grouped into one incident, paged once.
  await waitFor(() => opsLines(discord).some((l) => l.startsWith('[INCIDENT] S2 - Backend')), 30_000, () => JSON.stringify(discord.requests.slice(-5)));
  // A standby serves /status from the store.
  const fromStandby = await api(standby.port, '/api/status');
  t.ok(JSON.stringify(fromStandby.body).includes('"incident_id"'), 'a standby shows the open incident');

  const killedAt = Date.now();
  leading.vigil.kill('SIGKILL');
  const others = replicas.filter((r) => r !== leading);
  const next = await waitFor(async () => {
    for (const r of others) {
      const line = r.vigil.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(`cluster: replica ${r.name} leads`) && Date.parse(String(l.time)) >= killedAt);
      if (line) return { replica: r, at: Date.parse(String(line.time)) };
    }
    return null;
  }, 30_000, () => 'no replica took over');
  const tookMs = next.at - killedAt;
  t.comment(`${next.replica.name} led ${tookMs} ms after ${leader} was SIGKILLed`);
  t.ok(tookMs <= 2 * INTERVAL_MS + 1_500, `another replica leads within two intervals (and scheduling slack): ${tookMs} ms`);
  for (const r of others) {
    await waitFor(async () => (await leaderSeenBy(r)) === next.replica.name, 10_000, () => `${r.name} does not name ${next.replica.name} as the leader`);
  }
  t.pass(`GET /api/cluster on both survivors names ${next.replica.name}`);

  // The escalation falls due on the new leader; then the target comes back and it resolves there.
  await waitFor(() => opsLines(discord).some((l) => l.startsWith('[INCIDENT] S1 - Backend')), 30_000, () => JSON.stringify(opsLines(discord)));
  // An ack sent to the remaining standby is applied once, by the leader.
  const survivor = others.find((r) => r !== next.replica)!;
  const open = await api(survivor.port, '/api/incidents?state=open');
  t.equal(open.body.incidents.length, 1, 'one open incident, read on the standby');
  const id = open.body.incidents[0].id as number;
  const ack = await fetch(`http://127.0.0.1:${survivor.port}/api/incidents/${id}/ack`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ by: 'alice' }),
  });
  const acked = (await ack.json()) as { state: string };
  t.equal(ack.status, 200, 'the standby answers the ack once the leader applied it');
  t.equal(acked.state, 'acknowledged');
  const again = await fetch(`http://127.0.0.1:${survivor.port}/api/incidents/${id}/ack`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ by: 'bob' }),
  });
  t.equal(again.status, 409, 'a second ack is refused as for one vigil');
  const onLeader = await api(next.replica.port, `/api/incidents/${id}`);
  t.equal(onLeader.body.timeline.filter((e: { event: string }) => e.event === 'acknowledged').length, 1, 'the leader recorded the ack once');

  await target.up();
  await waitFor(() => opsLines(discord).some((l) => l.startsWith('[RESOLVED]')), 30_000, () => JSON.stringify(opsLines(discord)));
  await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS)); // a late duplicate would show up by now
  const lines = opsLines(discord);
  const kinds = ['[INCIDENT] S2', '[ACK]', '[INCIDENT] S1', '[RESOLVED]'];
  const counts = kinds.map((k) => lines.filter((l) => l.startsWith(k)).length);
  t.ok(counts.every((n) => n >= 1), `no page lost: ${JSON.stringify(lines)}`);
  t.ok(counts.reduce((a, b) => a + b, 0) - kinds.length <= 1, `at most one duplicate: ${JSON.stringify(lines)}`);
  t.equal(lines.length, counts.reduce((a, b) => a + b, 0), 'and nothing else paged');
  const embeds = discord.accepted('errors').map((a) => a.payload.embeds[0].title as string);
  t.equal(embeds.filter((e) => e.startsWith('S2 ·')).length >= 1 && embeds.filter((e) => e.startsWith('Resolved')).length >= 1, true, `#errors got the opening and the resolution: ${JSON.stringify(embeds)}`);

  for (const r of others) {
    r.vigil.kill('SIGTERM');
    t.same(await r.vigil.exited, { code: 0, signal: null }, `${r.name} stops cleanly`);
  }
});

t.test('a replica cut off from the target pages nobody about it, and one S3 about itself', async (t) => {
  const pg = await startPostgres(t, { maxConnections: 100 });
  const target = new Target(await freePort());
  await target.up();
  t.teardown(() => target.down());
  const nowhere = await freePort(); // nothing listens: vigil-c's own path to the target is broken
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const replicas = await cluster(t, pg, discord, { 'vigil-a': target.port, 'vigil-b': target.port, 'vigil-c': nowhere });
  await waitFor(() => opsLines(discord).some((l) => /vigil replica/.test(l)) || discord.accepted('warnings').length > 0, 30_000, () => JSON.stringify(discord.requests.slice(-5)));
  await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
  const warnings = discord.accepted('warnings').map((a) => JSON.stringify(a.payload));
  t.equal(warnings.length, 1, `one message on #warnings: ${warnings.join('\n')}`);
  const embed = discord.accepted('warnings')[0]!.payload.embeds[0] as { title: string; description: string };
  t.equal(embed.title, 'S3 · vigil replica cut off from the fleet (vigil-c) · production', 'an S3 about the replica');
  // Discord markdown is escaped in the description ("vigil\\-c"); the words are what matter.
  t.match(embed.description.replace(/\\/g, ''), 'vigil replica vigil-c cannot reach backend-health, backend-ready', 'naming what it cannot reach');
  t.equal(discord.accepted('errors').length, 0, 'nothing on #errors: the target is healthy');
  t.notOk(opsLines(discord).some((l) => /Backend/.test(l)), 'no page about the target');
  for (const r of replicas) r.vigil.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.vigil.exited));
});

t.test('PostgreSQL restarted under the replicas: none crashes, one leads again, and an outage still pages once', async (t) => {
  const pg = await startPostgres(t, { maxConnections: 100 });
  const target = new Target(await freePort());
  await target.up();
  t.teardown(() => target.down());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const replicas = await cluster(t, pg, discord, { 'vigil-a': target.port, 'vigil-b': target.port, 'vigil-c': target.port });
  const agreed = async () => {
    const seen = await Promise.all(replicas.map(leaderSeenBy));
    return seen.every((l) => l !== null && l === seen[0]) ? seen[0] : null;
  };
  await waitFor(agreed, 30_000, () => 'the replicas never agreed on a leader');

  await pg.stop();
  await waitFor(() => replicas.every((r) => r.vigil.lines.some((l) => typeof l.msg === 'string' && /cluster: this replica no longer leads|cannot reach PostgreSQL|heartbeat failed/.test(l.msg))), 30_000, () => 'no replica noticed PostgreSQL going away');
  await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS)); // down for a while, not a blip
  await pg.start();
  const leader = await waitFor(agreed, 60_000, () => 'no leader after PostgreSQL came back');
  t.pass(`${leader} leads again once PostgreSQL is back`);
  for (const r of replicas) t.equal(r.vigil.child.exitCode, null, `${r.name} is still running`);

  await target.down();
  await waitFor(() => opsLines(discord).some((l) => l.startsWith('[INCIDENT] S2 - Backend')), 60_000, () => JSON.stringify(discord.requests.slice(-5)));
  await target.up();
  await waitFor(() => opsLines(discord).some((l) => l.startsWith('[RESOLVED]')), 60_000, () => JSON.stringify(opsLines(discord)));
  await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
  const lines = opsLines(discord);
  t.equal(lines.filter((l) => l.startsWith('[INCIDENT] S2')).length, 1, `the outage paged once: ${JSON.stringify(lines)}`);
  t.equal(lines.filter((l) => l.startsWith('[RESOLVED]')).length, 1, 'and resolved once');
  for (const r of replicas) r.vigil.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.vigil.exited));
});
