// GET /api/status and /api/incidents through inject(): JSON shapes, query validation, 404s.
import t from 'tap';
import { testConfig, httpTestProbe } from '../helpers/config.js';
import { harness, makeIncident, NOW, subject } from './harness.js';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

t.test('status groups probes by environment and service with their state and worst open severity', async (t) => {
  const config = testConfig({
    probes: [
      ...testConfig().probes,
      httpTestProbe({ id: 'backend-tls', service: 'backend', severity: 'S3' }),
      httpTestProbe({ id: 'old-probe', service: 'legacy', enabled: false }),
    ],
  });
  const h = harness({ config });
  t.teardown(h.close);
  const incident = makeIncident({ id: 4, severity: 'S1', message: 'connection refused (127.0.0.1:8000)' });
  h.incidents.set(4, incident);
  h.incidents.set(5, makeIncident({ id: 5, severity: 'S3', rootProbe: 'backend-tls', rootKey: 'backend-tls', openedAt: NOW - 1000 }));
  h.subjects.set('backend-health', subject('backend-health', false, { since: NOW - 300_000, incidentId: 4 }));
  h.subjects.set('backend-health:tls', subject('backend-health:tls', true, { since: NOW - 900_000 }));
  // A key sharing a prefix without the colon belongs to another probe.
  h.subjects.set('backend-healthz', subject('backend-healthz', false));
  h.subjects.set('compute-health', subject('compute-health', true, { since: NOW - 120_000 }));

  const res = await h.app.inject({ method: 'GET', url: '/api/status' });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.generated_at, new Date(NOW).toISOString());
  t.same(
    body.environments.map((e: { name: string; severity_cap: string | null }) => [e.name, e.severity_cap]),
    [['production', null], ['staging', 'S3']],
  );
  const production = body.environments[0];
  t.same(production.services.map((s: { name: string }) => s.name), ['backend', 'compute'], 'disabled probes are left out');
  const backend = production.services[0];
  t.equal(backend.state, 'failing');
  t.equal(backend.severity, 'S1', 'the worst of S1 and S3');
  t.same(backend.probes[0], {
    id: 'backend-health',
    type: 'http',
    ok: false,
    since: new Date(NOW - 300_000).toISOString(),
    last_checked: null,
    message: 'connection refused (127.0.0.1:8000)',
    incident_id: 4,
  });
  t.same(backend.probes[1], { id: 'backend-tls', type: 'http', ok: null, since: null, last_checked: null }, 'never run reads as unknown');
  t.match(production.services[1], { name: 'compute', state: 'ok', severity: null, probes: [{ ok: true, since: new Date(NOW - 120_000).toISOString() }] });
  t.match(body.environments[1].services[0], { name: 'backend', state: 'unknown', severity: null });
  t.same(body.open_incidents.map((i: { id: number }) => i.id), [4, 5], 'worst severity first');
  t.match(body.open_incidents[0], { id: 4, state: 'open', severity: 'S1', root_probe: 'backend-health', opened_at: RFC3339_UTC });
});

t.test('a probe whose secondary finding fails is failing even when its main one passes', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.subjects.set('compute-health', subject('compute-health', true));
  h.subjects.set('compute-health:tls', subject('compute-health:tls', false, { since: NOW - 5000 }));
  const body = (await h.app.inject({ method: 'GET', url: '/api/status' })).json();
  const compute = body.environments[0].services[1];
  t.equal(compute.state, 'failing');
  t.same(compute.probes[0], { id: 'compute-health', type: 'http', ok: false, since: new Date(NOW - 5000).toISOString(), last_checked: null });
});

t.test('incidents list and get return the documented JSON (docs/http-api.md) from the store', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.seed(
    makeIncident({
      id: 1,
      state: 'resolved',
      resolvedAt: NOW - 60_000,
      timeline: [
        { at: NOW - 300_000, event: 'opened', detail: 'connection refused' },
        { at: NOW - 60_000, event: 'resolved', by: 'alice', detail: 'restarted the backend' },
      ],
    }),
  );
  h.seed(
    makeIncident({
      id: 2,
      severity: 'S2',
      service: 'compute',
      symptoms: ['backend-health'],
      evidence: [{ at: NOW - 200_000, source: 'compose ps', text: 'backend  exited (1)' }],
    }),
  );

  let res = await h.app.inject({ method: 'GET', url: '/api/incidents' });
  t.equal(res.statusCode, 200);
  t.same(res.json().incidents.map((i: { id: number }) => i.id).sort(), [1, 2]);

  res = await h.app.inject({ method: 'GET', url: '/api/incidents?state=open&limit=10' });
  t.same(res.json().incidents.map((i: { id: number }) => i.id), [2]);
  res = await h.app.inject({ method: 'GET', url: '/api/incidents?state=resolved' });
  t.same(res.json().incidents.map((i: { id: number }) => i.id), [1]);

  res = await h.app.inject({ method: 'GET', url: '/api/incidents/1' });
  t.equal(res.statusCode, 200);
  const resolved = res.json();
  t.same(Object.keys(resolved).sort(), [
    'acknowledged_at', 'acknowledged_by', 'detected_at', 'downtime_seconds', 'duration_seconds', 'environment', 'evidence', 'id', 'maintenance', 'message', 'opened_at',
    'resolved_at', 'respond_by', 'root_key', 'root_probe', 'service', 'severity', 'state', 'summary', 'symptoms', 'timeline',
  ]);
  t.match(resolved, { id: 1, state: 'resolved', resolved_at: new Date(NOW - 60_000).toISOString(), acknowledged_at: null, duration_seconds: 240, downtime_seconds: 240 });
  t.same(resolved.timeline, [
    { at: new Date(NOW - 300_000).toISOString(), event: 'opened', detail: 'connection refused' },
    { at: new Date(NOW - 60_000).toISOString(), event: 'resolved', by: 'alice', detail: 'restarted the backend' },
  ]);

  const open = (await h.app.inject({ method: 'GET', url: '/api/incidents/2' })).json();
  t.same(open.symptoms, ['backend-health']);
  t.same(open.evidence, [{ at: new Date(NOW - 200_000).toISOString(), source: 'compose ps', text: 'backend  exited (1)' }]);
  t.equal(open.respond_by, new Date(NOW + 25 * 60_000).toISOString());
});

t.test('unknown incidents are 404 and malformed requests 400, always as {error:{code,message}}', async (t) => {
  const h = harness();
  t.teardown(h.close);
  const cases: Array<[string, number, string]> = [
    ['/api/incidents/99', 404, 'not_found'],
    ['/api/incidents/abc', 400, 'bad_request'],
    ['/api/incidents/0', 400, 'bad_request'],
    ['/api/incidents/-1', 400, 'bad_request'],
    ['/api/incidents?state=closed', 400, 'bad_request'],
    ['/api/incidents?limit=0', 400, 'bad_request'],
    ['/api/incidents?limit=ten', 400, 'bad_request'],
    ['/api/incidents?limit=100000', 400, 'bad_request'],
    ['/api/incidents?state=open&state=resolved', 400, 'bad_request'],
    ['/api/nothing-here?x=1', 404, 'not_found'],
  ];
  for (const [url, status, code] of cases) {
    const res = await h.app.inject({ method: 'GET', url });
    t.equal(res.statusCode, status, url);
    const body = res.json();
    t.equal(body.error.code, code, `${url} code`);
    t.type(body.error.message, 'string');
    t.notMatch(res.body, /at .*\.(ts|js):\d+/, `${url} leaks no stack`);
  }
  const res = await h.app.inject({ method: 'GET', url: '/api/incidents?state=closed' });
  t.match(res.json().error.message, /query\.state: expected "open" or "resolved"/);
});

t.test('an internal failure is a 500 with a generic message, logged with its cause', async (t) => {
  const h = harness();
  await h.app.ready();
  h.store.close();
  t.teardown(() => h.app.close());
  const res = await h.app.inject({ method: 'GET', url: '/api/incidents/1' });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'internal', message: 'internal error; see the vigil log' } });
  t.ok(h.logs.some((l) => l.includes('"request failed"') && l.includes('"level":"error"')), 'the cause is in the log');
});
