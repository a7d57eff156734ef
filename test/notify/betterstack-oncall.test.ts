// The Better Stack on-call sink: the pure request builder, the answer table, and delivery through
// the real outbox and store against the strict fake Uptime API.
import { pino } from 'pino';
import t from 'tap';
import type { OncallConfig } from '../../src/config/types.js';
import { createMetrics } from '../../src/metrics.js';
import { Outbox } from '../../src/notify/outbox.js';
import { ONCALL_CHANNEL, ONCALL_SINK, type OncallBody } from '../../src/notify/route.js';
import { buildOncallRequest, classify, escalationTarget, oncallSink, retryAfter } from '../../src/notify/sinks/betterstack-oncall.js';
import { openStore } from '../../src/store/sqlite.js';
import type { IncidentEvent } from '../../src/types.js';
import { FakeBetterStackUptime } from '../helpers/fake-betterstack-uptime.js';
import { incidentEvent } from '../helpers/events.js';

const TOKEN = 'uptime-test-token-123';

/** The part of a tap test the harness needs: somewhere to hang its cleanup. */
type Test = Pick<typeof t, 'teardown'>;

function oncallConfig(over: Partial<OncallConfig> = {}): OncallConfig {
  return {
    apiToken: TOKEN,
    apiUrl: 'http://127.0.0.1:9',
    requesterEmail: 'vigil@sartiq.com',
    severities: {
      S1: { call: true, sms: true, push: true, email: true, critical_alert: true },
      S2: { call: false, sms: false, push: true, email: true, critical_alert: false },
    },
    policyId: null,
    teamWaitMs: null,
    syncIntervalMs: 30_000,
    ...over,
  };
}

function memoryLogger() {
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const log = pino({ level: 'debug', base: null, formatters: { level: (label) => ({ level: label }) } }, {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return { log, lines, raw };
}

t.test('the create request carries the severity flags, requester, name, summary and a description with evidence and link', async (t) => {
  const event = incidentEvent({ evidence: 'HTTP 502 from 10.0.0.2:8000\n<html>bad gateway</html>' });
  const req = buildOncallRequest('create', event, oncallConfig({ teamWaitMs: 600_000, policyId: '12345' }), 'https://vigil.example.internal/');
  t.equal(req.method, 'POST');
  t.equal(req.path, '/api/v3/incidents');
  t.match(req.body, {
    requester_email: 'vigil@sartiq.com',
    name: 'S1 · Backend API down · production',
    summary: '[INCIDENT] S1 - Backend API down on production. Investigating.',
    call: true, sms: true, push: true, email: true, critical_alert: true,
    team_wait: 600,
    policy_id: '12345',
  });
  const description = req.body!.description as string;
  t.match(description, /^What failed: status 502\n/);
  t.match(description, /Evidence:\nHTTP 502 from 10\.0\.0\.2:8000\n<html>bad gateway<\/html>/);
  t.match(description, /Incident: https:\/\/vigil\.example\.internal\/status\/incidents\/1\n/);
  t.match(description, /vigil ack 1 --by NAME/);

  const s2 = buildOncallRequest('create', incidentEvent({ severity: 'S2' }), oncallConfig(), null);
  t.match(s2.body, { call: false, sms: false, push: true, email: true, critical_alert: false });
  t.notOk('team_wait' in s2.body! || 'policy_id' in s2.body!, 'optional keys left out when not configured');
  t.match(s2.body!.description, /Incident: vigil #1\n/);
  const long = buildOncallRequest('create', incidentEvent({ evidence: 'x'.repeat(20_000) }), oncallConfig(), null);
  t.ok((long.body!.description as string).length <= 4_000, 'description bounded');
});

t.test('ack, resolve and escalate requests', async (t) => {
  const acked = incidentEvent({ type: 'acknowledged', by: 'alice' });
  t.strictSame(buildOncallRequest('acknowledge', acked, oncallConfig(), null, '77'), { method: 'POST', path: '/api/v3/incidents/77/acknowledge', body: { acknowledged_by: 'alice' } });
  t.strictSame(buildOncallRequest('resolve', incidentEvent({ type: 'resolved' }), oncallConfig(), null, '77').body, { resolved_by: 'vigil' }, 'resolved by a passing probe: by vigil');
  t.match(buildOncallRequest('escalate', incidentEvent({ type: 'reminder' }), oncallConfig({ policyId: '12345' }), null, '77'), {
    path: '/api/v3/incidents/77/escalate', body: { escalation_type: 'Policy', policy_id: 12345, call: true },
  });
  t.match(buildOncallRequest('escalate', incidentEvent({ type: 'reminder' }), oncallConfig(), null, '77').body, { escalation_type: 'Organization' });
  t.equal(escalationTarget({ policyId: '12345' }), 'escalation policy 12345');
  t.equal(escalationTarget({ policyId: null }), 'the whole team');
});

t.test('answers: 409 on ack/resolve is done; 429 waits Retry-After; 5xx retries; 401/403/422 give up', async (t) => {
  const now = Date.UTC(2026, 0, 1);
  t.same(classify('acknowledge', 409, '', {}, now), { ok: true });
  t.same(classify('resolve', 409, '', {}, now), { ok: true });
  t.match(classify('create', 409, '', {}, now), { ok: false, permanent: true });
  t.match(classify('create', 429, '', { 'retry-after': '7' }, now), { ok: false, permanent: false, retryAfterMs: 7_000, outcome: 'rate_limited' });
  t.equal(retryAfter(new Date(now + 3_000).toUTCString(), now), 3_000, 'an HTTP date works too');
  t.match(classify('create', 503, 'oops', {}, now), { ok: false, permanent: false });
  for (const status of [401, 403, 422]) t.match(classify('create', status, '{"errors":{"summary":["can\'t be blank"]}}', {}, now), { ok: false, permanent: true, outcome: 'rejected' });
  t.match(classify('create', 422, '{"errors":{"summary":["can\'t be blank"]}}', {}, now), { error: /422: \{"summary"/ });
});

async function setup(t: Test, fakeOpts: { rateLimitFirst?: number; token?: string } = {}) {
  const fake = await new FakeBetterStackUptime({ token: TOKEN, ...(fakeOpts.rateLimitFirst === undefined ? {} : { rateLimitFirst: fakeOpts.rateLimitFirst }) }).start();
  t.teardown(() => fake.close());
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const { log, lines, raw } = memoryLogger();
  const metrics = createMetrics('test', { defaults: false });
  const config = oncallConfig({ apiUrl: fake.url, apiToken: fakeOpts.token ?? TOKEN });
  const sink = oncallSink({ config, publicUrl: null, store, log });
  const outbox = new Outbox({ store, sinks: new Map([[ONCALL_SINK, sink]]), metrics, log, maxAgeMs: 3_600_000, pollMs: 50, backoff: () => 10 });
  const enqueue = (body: OncallBody) =>
    store.apply({ subjects: [], incidents: [], timeline: [], events: [], messages: [{ sink: ONCALL_SINK, channel: ONCALL_CHANNEL, createdAt: Date.now(), incidentId: body.event.incidentId, event: body.event.type, body }] })[0]!.id;
  return { fake, store, sink, outbox, enqueue, lines, raw, metrics };
}

const opened: IncidentEvent = incidentEvent({ incidentId: 4 });

t.test('create then ack then resolve, in order through one channel; 429 waits; second ack is 409 and still done', async (t) => {
  const { fake, store, outbox, enqueue, metrics } = await setup(t, { rateLimitFirst: 1 });
  enqueue({ action: 'create', event: opened });
  enqueue({ action: 'acknowledge', event: { ...opened, type: 'acknowledged', by: 'bob' } });
  enqueue({ action: 'acknowledge', event: { ...opened, type: 'acknowledged', by: 'bob' } });
  const first = await outbox.runOnce();
  t.match(first, { failed: 1, delivered: 0 }, 'the 429 holds the whole channel: the ack does not overtake the create');
  t.equal(fake.calls.length, 1);
  const start = Date.now();
  for (let i = 0; i < 100 && store.pendingCount() > 0; i++) {
    await outbox.runOnce();
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(Date.now() - start >= 900, 'waited for Retry-After');
  // The second ack finds it acknowledged already in vigil's record: nothing to send.
  t.strictSame(fake.writes(), ['POST /api/v3/incidents 429', 'POST /api/v3/incidents 201', 'POST /api/v3/incidents/9000/acknowledge 200']);
  t.match(store.oncallIncidentsOf(4), [{ remoteId: '9000', state: 'acknowledged' }]);
  t.equal(fake.incidents.get('9000')!.acknowledgedBy, 'bob');

  // Acknowledged in Better Stack by someone else first: vigil's ack answers 409, which is done.
  enqueue({ action: 'create', event: { ...opened, incidentId: 5 } });
  await outbox.drain();
  fake.acknowledgeFromPhone('9001', 'carol@sartiq.com');
  enqueue({ action: 'acknowledge', event: { ...opened, incidentId: 5, type: 'acknowledged', by: 'bob' } });
  enqueue({ action: 'resolve', event: { ...opened, incidentId: 5, type: 'resolved', by: 'bob' } });
  await outbox.drain();
  t.strictSame(fake.writes().slice(-3), ['POST /api/v3/incidents 201', 'POST /api/v3/incidents/9001/acknowledge 409', 'POST /api/v3/incidents/9001/resolve 200']);
  t.equal(store.pendingCount(), 0);
  const text = await metrics.registry.metrics();
  t.match(text, /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="rate_limited"\} 1/);
  t.match(text, /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="delivered"\} 6/);
});

t.test('a create already recorded for its message is not made again (crash after Better Stack answered)', async (t) => {
  const { fake, store, sink } = await setup(t);
  const id = store.apply({ subjects: [], incidents: [], timeline: [], events: [], messages: [{ sink: ONCALL_SINK, channel: ONCALL_CHANNEL, createdAt: Date.now(), incidentId: 4, event: 'opened', body: { action: 'create', event: opened } }] })[0]!.id;
  const msg = { id, sink: ONCALL_SINK, channel: ONCALL_CHANNEL, createdAt: Date.now(), incidentId: 4, event: 'opened' as const, body: { action: 'create', event: opened } };
  t.same(await sink.deliver(msg, new AbortController().signal), { ok: true });
  t.same(await sink.deliver(msg, new AbortController().signal), { ok: true });
  t.equal(fake.incidents.size, 1, 'one Better Stack incident for one create');
  t.equal(fake.calls.length, 1);
});

t.test('a bad token is loud, dead-lettered, counted, shown as given up, and never logged', async (t) => {
  const { fake, store, outbox, enqueue, lines, raw, metrics } = await setup(t, { token: 'wrong-token-456' });
  enqueue({ action: 'create', event: opened });
  await outbox.drain();
  t.strictSame(fake.writes(), ['POST /api/v3/incidents 401']);
  t.equal(store.pendingCount(), 0);
  const loud = lines.find((l) => l.level === 'error' && /refused the API token/.test(l.msg));
  t.ok(loud, 'an error line says what to fix');
  t.match(store.deadMessages(0, 10), [{ sink: ONCALL_SINK, channel: ONCALL_CHANNEL, incidentId: 4, event: 'opened', error: /Better Stack answered 401/ }]);
  t.match(await metrics.registry.metrics(), /vigil_notifications_total\{sink="betterstack_oncall",channel="oncall",outcome="rejected"\} 1/);
  t.notOk(raw.some((l) => l.includes('wrong-token-456') || l.includes(TOKEN)), 'no token in the log');
});

t.test('a missing required field is a 422: given up with the field named', async (t) => {
  const fake = await new FakeBetterStackUptime({ token: TOKEN }).start();
  t.teardown(() => fake.close());
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const { log, lines } = memoryLogger();
  const sink = oncallSink({ config: oncallConfig({ apiUrl: fake.url, requesterEmail: 'not-an-email' }), publicUrl: null, store, log });
  const result = await sink.deliver({ id: 1, sink: ONCALL_SINK, channel: ONCALL_CHANNEL, createdAt: 0, incidentId: 4, event: 'opened', body: { action: 'create', event: opened } }, new AbortController().signal);
  t.match(result, { ok: false, permanent: true, outcome: 'rejected', error: /422.*requester_email/ });
  t.ok(lines.some((l) => l.level === 'error' && l.status === 422));
});

t.test('escalate reaches only incidents nobody acknowledged; an ack for an incident never created sends nothing', async (t) => {
  const { fake, outbox, enqueue } = await setup(t);
  enqueue({ action: 'acknowledge', event: { ...opened, incidentId: 99, type: 'acknowledged', by: 'bob' } });
  enqueue({ action: 'create', event: opened });
  enqueue({ action: 'escalate', event: { ...opened, type: 'reminder' } });
  await outbox.drain();
  t.strictSame(fake.writes(), ['POST /api/v3/incidents 201', 'POST /api/v3/incidents/9000/escalate 200']);
  t.match(fake.incidents.get('9000')!.escalations, [{ escalation_type: 'Organization', call: true }]);
  fake.acknowledgeFromPhone('9000', 'dave');
  enqueue({ action: 'acknowledge', event: { ...opened, type: 'acknowledged', by: 'dave', via: 'Better Stack' } });
  await outbox.drain();
  t.equal(fake.writes().length, 3, 'vigil acks it in its record (409 there)');
});

t.test('an ack made in Better Stack reaches the incident\'s other Better Stack incident, never the one acked there', async (t) => {
  const { fake, store, outbox, enqueue } = await setup(t);
  enqueue({ action: 'create', event: { ...opened, severity: 'S2' } });
  enqueue({ action: 'create', event: { ...opened, type: 'escalated', previousSeverity: 'S2' } });
  await outbox.drain();
  fake.acknowledgeFromPhone('9001', 'alice@sartiq.com');
  store.setOncallState('9001', 'acknowledged', Date.now()); // what the sync records before vigil's ack
  enqueue({ action: 'acknowledge', event: { ...opened, type: 'acknowledged', by: 'alice@sartiq.com', via: 'Better Stack' } });
  await outbox.drain();
  t.strictSame(fake.writes(), ['POST /api/v3/incidents 201', 'POST /api/v3/incidents 201', 'POST /api/v3/incidents/9000/acknowledge 200']);
  t.equal(fake.incidents.get('9000')!.acknowledgedBy, 'alice@sartiq.com');
});
