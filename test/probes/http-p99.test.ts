// expect.p99_latency over the probe's own runs, against a real local HTTP server: gathering, a slow run failing it, ageing out of the window.
import { pino } from 'pino';
import t from 'tap';
import { httpProbe as httpProbeSchema } from '../../src/config/schema.js';
import { httpProbe, type HttpProbe } from '../../src/probes/http.js';
import { MIN_SAMPLES } from '../../src/probes/latency-window.js';
import type { Finding } from '../../src/types.js';
import type { ProbeMemory } from '../../src/probes/contract.js';
import { createTransports } from '../../src/transport/index.js';
import { testConfig } from '../helpers/config.js';
import { delayed, json, startHttpServer } from '../helpers/http-servers.js';

const log = pino({ enabled: false });
const transports = createTransports(testConfig(), log);

let slow = false;
const fast = json({ status: 'ok' });
const slowOne = delayed(1_500, fast);
const server = await startHttpServer((req, res) => (slow ? slowOne : fast)(req, res));
t.teardown(() => server.close());

function probeFor(expect: Record<string, unknown>): HttpProbe {
  const spec = httpProbeSchema.parse({ id: 'api-health', type: 'http', url: `http://127.0.0.1:${server.port}/health`, expect });
  return {
    id: 'api-health', type: 'http', environment: 'production', service: 'backend', severity: 'S2', summary: 'Backend API down', intervalMs: 30_000,
    schedule: null, timeoutMs: 5_000, failureThreshold: 2, successThreshold: 2, dependsOn: [], implicitDeps: [], enabled: true, escalate: [], headers: {}, spec,
  };
}

t.test('p99 over the runs in the window: waits for enough runs, fails on a slow one until it ages out', async (t) => {
  const probe = probeFor({ p99_latency: { above: '1s', window: '5m' } });
  const memory: ProbeMemory = new Map();
  let offset = 0;
  const now = () => Date.now() + offset;
  const p99 = async (): Promise<Finding> => {
    const findings = await httpProbe(probe, { signal: new AbortController().signal, log, now, transports, memory });
    t.match(findings[0], { key: 'api-health', ok: true }, 'the main finding is judged as before');
    return findings.find((f) => f.key === 'api-health:p99')!;
  };
  for (let i = 1; i < MIN_SAMPLES; i++) t.match(await p99(), { ok: true, message: `p99 needs ${MIN_SAMPLES} runs in the last 5m; ${i} so far` });
  t.match(await p99(), { ok: true, message: /^p99 \d+ms over 5 runs in the last 5m \(limit 1s\)$/, values: { samples: 5 } });

  slow = true;
  const failing = await p99();
  slow = false;
  t.match(failing, { ok: false, severity: 'S3', message: /^slow: p99 1\.\ds over 6 runs in the last 5m \(limit 1s\)$/ });
  t.match(failing.evidence, /^slowest runs: 1\.\ds, \d+ms/);
  t.match(await p99(), { ok: false, message: /over 7 runs/ }, 'below 100 runs the p99 is the slowest run, so it stays until it ages out');

  offset += 5 * 60_000;
  t.match(await p99(), { ok: true, message: 'p99 needs 5 runs in the last 5m; 1 so far' }, 'older runs left the window');
});

t.test('the severity is the rule\'s own, and a one-off run (no memory) does not judge a p99', async (t) => {
  const probe = probeFor({ p99_latency: { above: '1ms', window: '1m', severity: 'S2' } });
  const memory: ProbeMemory = new Map();
  let f: Finding | undefined;
  for (let i = 0; i < MIN_SAMPLES; i++) {
    slow = i === MIN_SAMPLES - 1; // one run surely slower than the limit, however fast this machine answers
    f = (await httpProbe(probe, { signal: new AbortController().signal, log, now: Date.now, transports, memory })).find((x) => x.key === 'api-health:p99');
  }
  slow = false;
  t.match(f, { ok: false, severity: 'S2' });
  const once = await httpProbe(probe, { signal: new AbortController().signal, log, now: Date.now, transports });
  t.match(once.find((x) => x.key === 'api-health:p99'), { ok: true, message: /^p99 is judged over the probe's runs in the daemon; this single run took \d+ms$/ });
  t.equal(probeFor({}).spec.expect.p99_latency, undefined);
  t.equal((await httpProbe(probeFor({}), { signal: new AbortController().signal, log, now: Date.now, transports, memory })).find((x) => x.key === 'api-health:p99'), undefined, 'no rule, no finding');
});
