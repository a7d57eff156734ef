// No response of any endpoint contains a secret from the config, even when a probe carelessly echoed one.
import t from 'tap';
import { testConfig, httpTestProbe } from '../helpers/config.js';
import type { Config } from '../../src/config/types.js';
import { harness, makeIncident, NOW, subject } from './harness.js';

const SECRETS = {
  apiToken: 'SECRET-api-token-6c1d0f',
  webhookErrors: 'https://discord.com/api/webhooks/111/SECRET-webhook-errors-9a8b',
  webhookWarnings: 'https://discord.com/api/webhooks/222/SECRET-webhook-warnings-7c6d',
  webhookOps: 'https://discord.com/api/webhooks/333/SECRET-webhook-ops-5e4f',
  sourceToken: 'SECRET-betterstack-source-3b2a',
  heartbeat: 'https://uptime.betterstack.com/api/v1/heartbeat/SECRET-heartbeat-1z0y',
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET-private-key-body-8x7w\n-----END OPENSSH PRIVATE KEY-----\n',
  passphrase: 'SECRET-passphrase-6v5u',
  dbPassword: 'SECRET-db-password-4t3s',
  headerValue: 'Bearer SECRET-upstream-header-2r1q',
  probePassword: 'SECRET-probe-basic-0p9o',
};
const DB_URL = `postgres://vigil:${SECRETS.dbPassword}@10.0.0.2:5432/app`;

function secretConfig(): Config {
  const base = testConfig();
  return testConfig({
    server: { ...base.server, apiToken: SECRETS.apiToken },
    alerts: {
      ...base.alerts,
      discord: { errors: SECRETS.webhookErrors, warnings: SECRETS.webhookWarnings, ops: SECRETS.webhookOps },
      betterstack: { sourceToken: SECRETS.sourceToken, endpoint: 'https://in.logs.betterstack.com', heartbeatUrl: SECRETS.heartbeat, heartbeatIntervalMs: 60_000 },
    },
    hosts: {
      'prod-backend': {
        name: 'prod-backend', environment: 'production', address: '10.0.0.2', port: 22, user: 'ubuntu',
        private_key_env: 'VIGIL_SSH_KEY', host_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublicKeyIsNotSecret',
        compose_dir: '/home/ubuntu/services/shootify-deploy', docker: 'docker', unreachable_severity: 'S2',
        privateKey: SECRETS.privateKey, passphrase: SECRETS.passphrase,
      },
    },
    databases: {
      'prod-backend-db': { name: 'prod-backend-db', environment: 'production', url_env: 'PROD_BACKEND_DB_URL', service: 'db', url: DB_URL },
    },
    probes: [
      ...base.probes,
      httpTestProbe({
        id: 'private-api',
        url: `https://vigil:${SECRETS.probePassword}@api.example.test/health`,
        headers: { authorization: SECRETS.headerValue, accept: 'application/json' },
        secretHeaders: ['authorization'],
      }),
    ],
  });
}

t.test('every endpoint answers without any configured secret in its body or headers', async (t) => {
  const h = harness({ config: secretConfig() });
  t.teardown(h.close);
  // A careless probe put the database URL and a webhook into its message and evidence.
  h.seed(
    makeIncident({
      id: 1,
      message: `could not connect to ${DB_URL}`,
      evidence: [
        { at: NOW, source: 'pg', text: `password=${SECRETS.dbPassword}\n${SECRETS.privateKey}` },
        { at: NOW, source: 'http', text: `posted to ${SECRETS.webhookOps} with ${SECRETS.headerValue}` },
      ],
    }),
  );
  h.incidents.set(1, h.store.getIncident(1)!);
  h.subjects.set('backend-health', subject('backend-health', false, { incidentId: 1 }));
  h.metrics.probeSuccess.set({ probe: 'private-api', type: 'http', environment: 'production', service: 'backend' }, 1);

  const auth = { authorization: `Bearer ${SECRETS.apiToken}` };
  const requests: Array<{ method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: object }> = [
    { method: 'GET', url: '/healthz' },
    { method: 'GET', url: '/readyz' },
    { method: 'GET', url: '/metrics' },
    { method: 'GET', url: '/api/status' },
    { method: 'GET', url: '/api/incidents' },
    { method: 'GET', url: '/api/incidents?state=open' },
    { method: 'GET', url: '/api/incidents/1' },
    { method: 'GET', url: '/api/incidents/2' },
    { method: 'GET', url: '/nowhere' },
    { method: 'POST', url: '/api/incidents/1/notes', headers: auth, payload: { by: 'alice', text: 'looking' } },
    { method: 'POST', url: '/api/incidents/1/ack', headers: { authorization: 'Bearer wrong' }, payload: { by: 'alice' } },
    { method: 'POST', url: '/api/incidents/1/ack', headers: auth, payload: { by: 'alice' } },
    { method: 'POST', url: '/api/incidents/1/ack', headers: auth, payload: { by: 'alice' } },
    { method: 'POST', url: '/api/incidents/1/ack', headers: auth, payload: { by: 'a'.repeat(200) } },
    { method: 'POST', url: '/api/incidents/9/resolve', headers: auth, payload: { by: 'alice' } },
    { method: 'POST', url: '/api/incidents/1/resolve', headers: auth, payload: { by: 'alice', note: 'fixed' } },
  ];
  const statuses: number[] = [];
  for (const request of requests) {
    const res = await h.app.inject(request);
    statuses.push(res.statusCode);
    const seen = `${JSON.stringify(res.headers)}\n${res.body}`;
    for (const [name, secret] of Object.entries(SECRETS)) {
      t.notOk(seen.includes(secret), `${request.method} ${request.url} (${res.statusCode}) does not contain ${name}`);
      t.notOk(seen.includes(JSON.stringify(secret).slice(1, -1)), `nor its JSON-escaped form`);
    }
    t.notOk(seen.includes(DB_URL), `${request.url} does not contain the database URL`);
  }
  t.same(statuses, [200, 200, 200, 200, 200, 200, 200, 404, 404, 200, 401, 200, 409, 400, 404, 200], 'the requests did what they meant to');

  const incident = (await h.app.inject({ method: 'GET', url: '/api/incidents/1' })).json();
  t.match(incident.message, /could not connect to \[redacted\]/, 'the careless message is kept, its secret replaced');
});
