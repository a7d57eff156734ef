// Real Prometheus scrapes the real `vigil run` on 127.0.0.1, and vigil_probe_success reads back through its query API.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';

const PROMETHEUS = findPeer(PEERS.prometheus) ?? PEERS.prometheus.path;
const skip = skipWithout(PEERS.prometheus);

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promApi<T>(base: string, path: string): Promise<T | null> {
  const res = await fetch(`${base}${path}`).catch(() => null);
  if (!res || res.status !== 200) return null;
  const body = (await res.json()) as { status: string; data: T };
  return body.status === 'success' ? body.data : null;
}

t.test('Prometheus scrapes vigil and reads vigil_probe_success back', { skip, timeout: 110_000 }, async (t) => {
  const dir = tmpDir(t, 'vigil-prom-');
  const [vigilPort, promPort, targetPort, deadPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const target = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => target.close(() => resolve())));

  const config = join(dir, 'vigil.yaml');
  // The query reads one moment's value, so one run of the passing probe that timed out would read 0.
  // A fresh vigil's first runs took ~600 ms on a loaded 2-core machine (400 ms failed them): 2 s lets
  // a healthy target through; the refused one fails at once whatever the timeout.
  writeFileSync(
    config,
    `
server: { listen: 127.0.0.1:${vigilPort} }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 2s, timeout: 2s }
environments: { production: {} }
probes:
  - { id: webapp, type: http, environment: production, service: webapp, summary: Webapp down, url: "http://127.0.0.1:${targetPort}/" }
  - { id: compute-health, type: http, environment: production, service: compute, summary: Compute API down, url: "http://127.0.0.1:${deadPort}/health" }
`,
  );
  const vigil = new VigilProcess(['run', '--config', config], { VIGIL_LOG_LEVEL: 'warn' });
  t.teardown(async () => {
    vigil.kill('SIGKILL');
    await vigil.exited;
  });
  await vigil.ready(vigilPort);

  const promConfig = join(dir, 'prometheus.yml');
  // up{job="vigil"} is the last scrape's outcome: a scrape timeout of 900 ms could fail one on a loaded machine.
  writeFileSync(
    promConfig,
    `
global: { scrape_interval: 2s, evaluation_interval: 2s }
scrape_configs:
  - job_name: vigil
    scrape_timeout: 2s
    static_configs: [{ targets: ['127.0.0.1:${vigilPort}'] }]
`,
  );
  let promLog = '';
  const prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout.on('data', (c: Buffer) => (promLog += c.toString()));
  prometheus.stderr.on('data', (c: Buffer) => (promLog += c.toString()));
  const promExited = new Promise((resolve) => prometheus.once('close', resolve));
  t.teardown(async () => {
    prometheus.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([promExited.then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), 10_000)))]);
    clearTimeout(timer);
    if (!stopped) prometheus.kill('SIGKILL');
  });

  const base = `http://127.0.0.1:${promPort}`;
  type Targets = { activeTargets: Array<{ health: string; lastError: string; labels: Record<string, string> }> };
  const targets = await waitFor(
    async () => {
      const data = await promApi<Targets>(base, '/api/v1/targets');
      const vigilTarget = data?.activeTargets.find((a) => a.labels.job === 'vigil');
      return vigilTarget?.health === 'up' ? data : null;
    },
    60_000,
    () => `the vigil target never came up; prometheus said:\n${promLog}`,
  );
  t.equal(targets.activeTargets.length, 1, 'one target: vigil');

  const query = encodeURIComponent('vigil_probe_success{job="vigil"}');
  const samples = await waitFor(
    async () => {
      const data = await promApi<{ resultType: string; result: Sample[] }>(base, `/api/v1/query?query=${query}`);
      return data && data.result.length >= 2 ? data.result : null;
    },
    30_000,
    () => `no vigil_probe_success samples; prometheus said:\n${promLog}`,
  );
  const byProbe = Object.fromEntries(samples.map((s) => [s.metric.probe, s]));
  t.match(byProbe.webapp?.metric, { __name__: 'vigil_probe_success', job: 'vigil', instance: `127.0.0.1:${vigilPort}`, probe: 'webapp', type: 'http', environment: 'production', service: 'webapp' });
  t.equal(byProbe.webapp?.value[1], '1', 'the passing probe reads 1');
  t.equal(byProbe['compute-health']?.value[1], '0', 'the refused probe reads 0');

  const up = await promApi<{ result: Sample[] }>(base, `/api/v1/query?query=${encodeURIComponent('up{job="vigil"}')}`);
  t.equal(up?.result[0]?.value[1], '1', 'up{job="vigil"} is 1');
});
