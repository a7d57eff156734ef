// Pipes /metrics, every vigil_ family populated, through `promtool check metrics`: it must find nothing to say about them.
import { spawnSync } from 'node:child_process';
import { Counter, Gauge, Histogram, Summary } from 'prom-client';
import t from 'tap';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';
import { harness, makeIncident } from './harness.js';

const promtool = findPeer(PEERS.promtool);
const skip = skipWithout(PEERS.promtool);

t.test('promtool check metrics finds nothing about the vigil_ families', { skip }, async (t) => {
  if (!promtool) throw new Error('unreachable: skipped without promtool');
  const h = harness();
  t.teardown(h.close);
  const m = h.metrics;

  // Through the app: the gauges it sets at scrape time from the store and the engine.
  h.store.apply({
    subjects: [],
    incidents: [],
    timeline: [],
    messages: [{ sink: 'discord', channel: 'errors', createdAt: 1, incidentId: 1, event: 'opened', body: {} }],
    events: [],
  });
  h.incidents.set(1, makeIncident({ id: 1 }));
  // Directly: everything the scheduler, the probes and the outbox would record.
  m.probeSuccess.set({ probe: 'backend-health', type: 'http', environment: 'production', service: 'backend' }, 1);
  m.probeDuration.observe({ probe: 'backend-health', type: 'http' }, 0.12);
  m.probeRuns.inc({ probe: 'backend-health', type: 'http', outcome: 'success' });
  m.incidentsOpened.inc({ environment: 'production', severity: 'S1' });
  m.notifications.inc({ sink: 'discord', channel: 'errors', outcome: 'delivered' });
  m.schedulerLag.observe(0.004);
  // Any family added to metrics.ts later gets a sample too, so this test keeps covering all of them.
  for (const metric of m.registry.getMetricsAsArray()) {
    const labels = Object.fromEntries(((metric as unknown as { labelNames: string[] }).labelNames ?? []).map((n) => [n, 'sample']));
    if (metric instanceof Histogram || metric instanceof Summary) metric.observe(labels, 1);
    else if (metric instanceof Counter) metric.inc(labels);
    else if (metric instanceof Gauge && metric.name !== 'vigil_incidents_open' && metric.name !== 'vigil_outbox_pending') metric.set(labels, 1);
  }

  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  const families = m.registry.getMetricsAsArray().map((x) => x.name).filter((name) => name.startsWith('vigil_'));
  t.ok(families.length >= 9, `found ${families.length} vigil_ families`);
  for (const name of families) {
    t.match(res.body, new RegExp(`^${name}(_bucket|_sum|_count)?(\\{[^}]*\\})? \\S+$`, 'm'), `${name} has a sample`);
  }
  t.match(res.body, /^vigil_outbox_pending 1$/m);
  t.match(res.body, /^vigil_incidents_open\{environment="production",severity="S1"\} 1$/m);

  const check = spawnSync(promtool, ['check', 'metrics'], { input: res.body, encoding: 'utf8', timeout: 30_000 });
  t.equal(check.error, undefined, 'promtool ran');
  const output = `${check.stdout}\n${check.stderr}`;
  const aboutVigil = output.split('\n').filter((line) => line.includes('vigil_'));
  t.same(aboutVigil, [], 'promtool has nothing to say about vigil_ families');
  // It may complain about prom-client's nodejs_* defaults, and then exits 3; anything else is a broken run.
  t.ok(check.status === 0 || (check.status === 3 && aboutVigil.length === 0), `promtool exit ${check.status}: ${output.trim().slice(0, 500)}`);
});
