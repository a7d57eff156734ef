// The daemon triaging a real outage: PostgreSQL stopped under a backend that needs it → one incident with the DB error and compose ps as evidence.
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import type { IncidentJson } from '../../src/server/serialize.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { startHttpServer } from '../helpers/http-servers.js';
import { MONITOR_PASSWORD, startPostgres } from '../helpers/pg.js';
import { startSshServer } from '../helpers/ssh-server.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const LOG_SECRET = 'hunter2-in-the-logs';

// Probe timeouts of 2 s let a healthy check through on a busy 2-core machine (300 ms did not); the
// waits are bounds that only catch a hang, within the file's.
t.setTimeout(240_000);

t.test('a database outage under a dependent backend: one incident, triaged over SSH and PostgreSQL, summarised in #errors', async (t) => {
  const server = await startPostgres(t);
  // The fake backend needs the database for every answer, as the real one does.
  const backend = await startHttpServer((_req, res) => {
    const client = new pg.Client({ connectionString: server.superuserUrl, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    client
      .connect()
      .then(() => client.query('SELECT 1'))
      .then(
        () => res.writeHead(200).end('true'),
        (err: Error) => res.writeHead(500).end(`database error: ${err.message}`),
      )
      .finally(() => void client.end().catch(() => undefined));
  });
  t.teardown(() => backend.close());

  const host = await startSshServer(t);
  host.scene.ps = 'ps-lines.jsonl';
  host.reply = (command) =>
    /\blogs --no-color --timestamps --tail 50 db$/.test(command)
      ? {
          stdout: [
            'shootify-db-1  | 2026-11-27T21:15:40.000000000Z LOG:  received fast shutdown request',
            `shootify-db-1  | 2026-11-27T21:15:41.000000000Z FATAL:  could not start: password=${LOG_SECRET}`,
            'shootify-db-1  | 2026-11-27T21:15:42.000000000Z LOG:  database system is shut down',
          ].join('\n'),
        }
      : undefined;

  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const dir = tmpDir(t);
  const yaml = `
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 2s, timeout: 2s, failure_threshold: 2, success_threshold: 1 }
environments: { production: {} }
hosts:
  app-1:
    environment: production
    address: 127.0.0.1
    port: ${host.port}
    user: vigil
    private_key_env: SSH_KEY
    host_key: "${host.hostKeyLine}"
    compose_dir: /home/ubuntu/services/shootify-deploy
databases:
  prod-db: { environment: production, url_env: PROD_DB_URL, impact_query: "SELECT count(*) FROM pg_stat_activity" }
alerts:
  discord:
    errors: { url_env: DISCORD_ERRORS }
    ops: { url_env: DISCORD_OPS }
probes:
  - { id: prod-db-ready, type: pg_ready, database: prod-db, summary: Backend DB unreachable }
  - { id: app-ps, type: compose_ps, host: app-1, services: { backend: S1, db: S1 }, interval: 2s }
  - id: backend-health
    type: http
    environment: production
    service: backend
    severity: S1
    summary: Backend API down
    url: ${backend.url}/health
    expect: { body_contains: "true" }
    depends_on: [prod-db-ready]
`;
  const config = loadConfigText(yaml, 'triage-e2e.yaml', {
    PROD_DB_URL: server.monitorUrl,
    SSH_KEY: host.clientKey.private,
    DISCORD_ERRORS: discord.webhook('errors'),
    DISCORD_OPS: discord.webhook('ops'),
  });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());

  await waitFor(
    () => ['prod-db-ready', 'backend-health', 'app-ps:db'].every((k) => daemon.state.subjects.get(k)?.ok === true),
    60_000,
    () => `subjects: ${JSON.stringify([...daemon.state.subjects.values()])}`,
  );
  t.same(daemon.store.listIncidents({}), [], 'no incident while the database is up');

  await server.stop();
  const stoppedAt = Date.now();
  // Settled: the root's incident exists, the backend joined it, and triage recorded its evidence.
  const incident = await waitFor(() => {
    const all = daemon.store.listIncidents({});
    const one = all[0];
    return all.length === 1 && one?.symptoms.includes('backend-health') && one.evidence.some((e) => e.source === 'compose-ps:app-1') ? one : null;
  }, 60_000, () => `incidents: ${JSON.stringify(daemon.store.listIncidents({}))}`);
  t.match(incident, { rootProbe: 'prod-db-ready', severity: 'S1', service: 'db', summary: 'Backend DB unreachable' }, 'the database is the root');

  const res = await daemon.app.inject({ method: 'GET', url: `/api/incidents/${incident.id}` });
  t.equal(res.statusCode, 200);
  const json = res.json() as IncidentJson;
  const bySource = new Map(json.evidence.map((e) => [e.source, e.text]));
  t.match(bySource.get('connections:prod-db'), `connection refused by 127.0.0.1:${server.port}/postgres`, 'the database error is evidence');
  t.match(bySource.get('long-queries:prod-db'), 'connection refused', 'so is the long-query step that met it');
  t.match(bySource.get('impact-failed:prod-db'), /impact_query of prod-db failed: .*connection refused/, 'a failed impact_query is not filed as users affected');
  t.notOk(bySource.has('impact:prod-db'), 'no users-affected number was made up');
  t.match(bySource.get('compose-ps:app-1'), /NAME\s+SERVICE\s+STATE[\s\S]*shootify-db-1\s+db\s+running\s+healthy/, "the fake host's compose ps");
  t.match(bySource.get('logs:app-1/db'), 'database system is shut down', 'the last log lines of the service');
  t.match(bySource.get('logs:app-1/db'), 'password=***', 'a secret in a log line is masked');
  t.ok(host.commands.some((c) => c.endsWith(" compose logs --no-color --timestamps --tail 50 db")), 'the runbook command ran on the host');

  // The #errors embed was held for the summary, then released; #ops went out at once, unchanged.
  const errors = await waitFor(() => discord.accepted('errors')[0], 30_000, () => JSON.stringify(discord.requests));
  const ops = discord.accepted('ops')[0];
  t.equal(ops?.payload.content, '[INCIDENT] S1 - Backend DB unreachable on production. Investigating.', 'the #ops line is the runbook wording');
  t.ok(errors.at - stoppedAt < 25_000, 'the embed did not wait past the triage budget');
  const triage = (errors.payload.embeds[0].fields as Array<{ name: string; value: string }>).find((f) => f.name === 'Triage');
  t.ok(triage, "the embed has a Triage field");
  t.match(triage?.value, /✗ connections prod-db: .*connection refused/, 'summarising the database error');
  t.match(triage?.value, '4 containers on app-1, all running', 'and the compose ps');
  t.strictSame(discord.rejected, [], 'Discord refused nothing');
  t.equal(daemon.store.listIncidents({}).length, 1, 'exactly one incident');

  const everything = JSON.stringify([json, discord.accepted('errors'), discord.accepted('ops')]);
  t.notOk(everything.includes(LOG_SECRET), 'no secret from the logs anywhere');
  t.notOk(everything.includes(MONITOR_PASSWORD), 'no database password anywhere');
});
