// Which triage steps fit an incident: hosts that run its service, its databases, the impact_query, from the real config loader.
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { DEFAULT_LONG_QUERY_MS, planTriage } from '../../src/triage/plan.js';

const FLEET = `
environments: { production: {}, staging: {} }
hosts:
  prod-app: { environment: production, address: 10.0.0.2, user: ubuntu, private_key_env: KEY, host_key_sha256: "SHA256:${'A'.repeat(43)}", compose_dir: /srv/app }
  prod-compute: { environment: production, address: 10.0.0.3, user: ubuntu, private_key_env: KEY, host_key_sha256: "SHA256:${'B'.repeat(43)}", compose_dir: /srv/compute }
  staging-app: { environment: staging, address: 10.0.1.3, user: ubuntu, private_key_env: KEY, host_key_sha256: "SHA256:${'C'.repeat(43)}", compose_dir: /srv/app }
databases:
  prod-db: { environment: production, url_env: DB, via: prod-app, impact_query: "SELECT count(*) FROM sessions" }
  compute-db: { environment: production, url_env: DB, service: compute-db }
  staging-db: { environment: staging, url_env: DB }
probes:
  - { id: prod-db-ready, type: pg_ready, database: prod-db, summary: Backend DB unreachable }
  - { id: prod-db-long, type: pg_long_queries, database: prod-db, older_than: 5m }
  - { id: compute-db-ready, type: pg_ready, database: compute-db }
  - { id: prod-ps, type: compose_ps, host: prod-app, services: { backend: S1, db: S1, redis: S2 } }
  - { id: compute-ps, type: compose_ps, host: prod-compute, services: { compute: S1 } }
  - { id: staging-ps, type: compose_ps, host: staging-app, services: { backend: S3, db: S3 } }
  - { id: compute-errors, type: compose_logs, host: prod-compute, service: worker, pattern: Traceback }
  - { id: backend-health, type: http, environment: production, service: backend, url: "https://api.example.com/health", depends_on: [backend-gateway] }
  - { id: backend-gateway, type: http, environment: production, service: gateway, url: "https://gw.example.com/", depends_on: [prod-db-ready] }
  - { id: webapp, type: http, environment: production, service: webapp, url: "https://app.example.com/" }
  - { id: compute-disks, type: host, host: prod-compute }
  - { id: prod-redis, type: redis, url_env: REDIS, via: prod-app, queues: [{ key: celery, stuck_after: 10m, summary: Generation pipeline stuck }] }
  - { id: generation, type: http, environment: production, service: generation, url: "https://api.example.com/generate/health", depends_on: [prod-redis] }
`;
const config = loadConfigText(FLEET, 'plan-test.yaml', { KEY: 'not read by the plan', DB: 'postgres://vigil:pw@127.0.0.1:5432/app', REDIS: 'redis://:pw@127.0.0.1:6379/0' });
const sources = (incident: Parameters<typeof planTriage>[0]) => planTriage(incident, config).map((s) => s.source);

t.test('a database incident: ps and the db logs on the host that runs it, then connections, long queries and the impact_query', async (t) => {
  const steps = planTriage({ environment: 'production', service: 'db', rootProbe: 'prod-db-ready', rootKey: 'prod-db-ready' }, config);
  t.same(
    steps.map((s) => s.source),
    ['compose-ps:prod-app', 'logs:prod-app/db', 'df:prod-app', 'connections:prod-db', 'long-queries:prod-db', 'impact:prod-db'],
    'in the runbook order, with df -P of the host the database is reached through; the staging host that also lists db is another environment',
  );
  t.match(steps.find((s) => s.kind === 'pg_long_queries'), { olderThanMs: 5 * 60_000 }, "the operator's own older_than");
  t.match(steps.find((s) => s.kind === 'impact'), { database: 'prod-db', sql: 'SELECT count(*) FROM sessions' });
  t.match(steps.find((s) => s.kind === 'compose_logs'), { host: 'prod-app', service: 'db' });
});

t.test('a service incident reaches the database of a pg_ready it depends on, transitively', async (t) => {
  t.same(sources({ environment: 'production', service: 'backend', rootProbe: 'backend-health', rootKey: 'backend-health' }), [
    'compose-ps:prod-app',
    'logs:prod-app/backend',
    'connections:prod-db',
    'long-queries:prod-db',
    'impact:prod-db',
  ]);
});

t.test("a database is also found by its service, with the runbook's 1-minute long-query limit when no probe sets one", async (t) => {
  const steps = planTriage({ environment: 'production', service: 'compute-db', rootProbe: 'compute-db-ready', rootKey: 'compute-db-ready' }, config);
  t.same(steps.map((s) => s.source), ['connections:compute-db', 'long-queries:compute-db'], 'no host lists compute-db, no impact_query');
  t.match(steps[1], { olderThanMs: DEFAULT_LONG_QUERY_MS });
});

t.test('a compose_logs root: ps on its host and the logs of the service it reads', async (t) => {
  t.same(sources({ environment: 'production', service: 'worker', rootProbe: 'compute-errors', rootKey: 'compute-errors' }), ['compose-ps:prod-compute', 'logs:prod-compute/worker']);
});

t.test('a host that cannot be reached: ps on it (which says so), logs only where the service is known to run', async (t) => {
  t.same(sources({ environment: 'production', service: 'prod-compute', rootProbe: 'compute-ps', rootKey: 'host:prod-compute' }), ['compose-ps:prod-compute']);
  t.same(sources({ environment: 'production', service: 'redis', rootProbe: 'prod-ps', rootKey: 'prod-ps:redis' }), ['compose-ps:prod-app', 'logs:prod-app/redis', 'redis:prod-redis'], 'a redis container incident also reads Redis INFO');
});

t.test('nothing fits: an http service with no host, database or dependency has no triage (and no held page)', async (t) => {
  t.same(planTriage({ environment: 'production', service: 'webapp', rootProbe: 'webapp', rootKey: 'webapp' }, config), []);
  t.same(planTriage({ environment: 'production', service: 'db', rootProbe: 'gone-after-reload', rootKey: 'gone-after-reload' }, config).map((s) => s.source), [
    'compose-ps:prod-app',
    'logs:prod-app/db',
    'connections:prod-db',
    'long-queries:prod-db',
    'impact:prod-db',
  ], 'a root probe no longer in the config still gets what its service says');
});

t.test("a database reached through a host's tunnel: ps and the database's logs on that host, even when no compose probe lists it", async (t) => {
  const tunnelled = loadConfigText(
    `
environments: { production: {} }
hosts:
  vm: { environment: production, address: 10.0.0.2, user: ubuntu, private_key_env: KEY, host_key_sha256: "SHA256:${'A'.repeat(43)}", compose_dir: /srv/app }
databases:
  db: { environment: production, url_env: DB, via: vm }
probes:
  - { id: db-ready, type: pg_ready, database: db }
  - { id: ps, type: compose_ps, host: vm, services: { backend: S1 } }
`,
    'tunnel.yaml',
    { KEY: 'k', DB: 'postgres://vigil:pw@127.0.0.1:5432/app' },
  );
  t.same(
    planTriage({ environment: 'production', service: 'db', rootProbe: 'db-ready', rootKey: 'db-ready' }, tunnelled).map((s) => s.source),
    ['compose-ps:vm', 'logs:vm/db', 'df:vm', 'connections:db', 'long-queries:db'],
  );
});

t.test("df -P fits a host probe's own host and a root database's tunnel host, never a host that cannot be reached", async (t) => {
  t.same(sources({ environment: 'production', service: 'prod-compute', rootProbe: 'compute-disks', rootKey: 'compute-disks:disk:/' }), ['df:prod-compute']);
  t.same(sources({ environment: 'production', service: 'prod-compute', rootProbe: 'compute-disks', rootKey: 'host:prod-compute' }), ['compose-ps:prod-compute']);
  t.notOk(sources({ environment: 'production', service: 'compute-db', rootProbe: 'compute-db-ready', rootKey: 'compute-db-ready' }).some((s) => s.startsWith('df:')), 'no tunnel, no host to read');
  t.notOk(sources({ environment: 'production', service: 'backend', rootProbe: 'backend-health', rootKey: 'backend-health' }).some((s) => s.startsWith('df:')), 'an http root reaches its database but is not a disk matter');
});

t.test('a stuck queue: ps and logs where Redis runs, then INFO and the queue lengths of its redis probe', async (t) => {
  const steps = planTriage({ environment: 'production', service: 'redis', rootProbe: 'prod-redis', rootKey: 'prod-redis:queue:celery' }, config);
  t.same(steps.map((s) => s.source), ['compose-ps:prod-app', 'logs:prod-app/redis', 'redis:prod-redis']);
  t.match(steps.at(-1), { kind: 'redis', probe: 'prod-redis', queues: ['celery'], target: { url: 'redis://:pw@127.0.0.1:6379/0', via: 'prod-app' } });
  t.same(sources({ environment: 'production', service: 'generation', rootProbe: 'generation', rootKey: 'generation' }), ['redis:prod-redis'], 'a service that depends on the redis probe gets its INFO');
  t.same(sources({ environment: 'staging', service: 'redis', rootProbe: 'staging-ps', rootKey: 'staging-ps:redis' }), ['compose-ps:staging-app'], 'not another environment\'s Redis');
});
