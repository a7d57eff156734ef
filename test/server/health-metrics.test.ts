// /healthz, /readyz and /metrics through inject(): status codes, bodies, scrape-time gauges.
import t from 'tap';
import { harness, makeIncident } from './harness.js';

t.test('healthz answers 200 while scheduler and store work, 503 naming what failed', async (t) => {
  const h = harness();
  t.teardown(h.close);
  let res = await h.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'ok', checks: { scheduler: true, store: true } });
  t.equal(res.headers['cache-control'], 'no-store');

  h.health.store = false;
  res = await h.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(res.json().failed, ['store']);
  t.equal(res.json().error.code, 'unhealthy');

  h.health.scheduler = false;
  res = await h.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(res.json().failed, ['scheduler', 'store']);
});

t.test('readyz answers 503 until the first round of probes, then 200', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.health.ready = false;
  let res = await h.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(res.statusCode, 503);
  t.equal(res.json().error.code, 'not_ready');
  h.health.ready = true;
  res = await h.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { status: 'ready' });
});

t.test('metrics serves the registry with build info, outbox size and open incidents', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.store.apply({
    subjects: [],
    incidents: [],
    timeline: [],
    messages: [
      { sink: 'console', channel: 'ops', createdAt: 1, incidentId: null, event: 'opened', body: {} },
      { sink: 'console', channel: 'ops', createdAt: 2, incidentId: null, event: 'opened', body: {} },
    ],
    events: [],
  });
  h.incidents.set(1, makeIncident({ id: 1, severity: 'S1' }));
  h.incidents.set(2, makeIncident({ id: 2, severity: 'S1', state: 'acknowledged' }));
  h.incidents.set(3, makeIncident({ id: 3, environment: 'staging', severity: 'S3' }));

  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  t.match(text, /^vigil_build_info\{version="test"\} 1$/m);
  t.match(text, /^vigil_outbox_pending 2$/m);
  t.match(text, /^vigil_incidents_open\{environment="production",severity="S1"\} 2$/m);
  t.match(text, /^vigil_incidents_open\{environment="staging",severity="S3"\} 1$/m);
  // Every configured combination is present, at 0 when nothing is open.
  t.match(text, /^vigil_incidents_open\{environment="staging",severity="S1"\} 0$/m);
  t.match(text, /^process_cpu_user_seconds_total /m, 'process defaults are exposed too');
});

t.test('metrics drop an incident from the open gauge once it closes', async (t) => {
  const h = harness();
  t.teardown(h.close);
  h.incidents.set(7, makeIncident({ id: 7, severity: 'S2' }));
  let res = await h.app.inject({ method: 'GET', url: '/metrics' });
  t.match(res.body, /^vigil_incidents_open\{environment="production",severity="S2"\} 1$/m);
  h.incidents.set(7, makeIncident({ id: 7, severity: 'S2', state: 'resolved', resolvedAt: Date.now() }));
  res = await h.app.inject({ method: 'GET', url: '/metrics' });
  t.match(res.body, /^vigil_incidents_open\{environment="production",severity="S2"\} 0$/m);
});

t.test('metrics still answer when the store fails, and the failure is logged', async (t) => {
  const h = harness();
  await h.app.ready();
  h.store.close(); // every store call now throws
  t.teardown(() => h.app.close());
  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.body, /^vigil_build_info\{version="test"\} 1$/m);
  t.ok(h.logs.some((l) => l.includes('could not read the outbox size')), 'logged the failed read');
});
