// deploy/alertmanager: the config passes amtool's check, routes vigil's alerts to Discord's #ops, and
// Prometheus's config sends its alerts there.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';

const run = promisify(execFile);
const AMTOOL = findPeer(PEERS.amtool) ?? PEERS.amtool.path;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = `${ROOT}deploy/alertmanager/alertmanager.yml`;

async function amtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(AMTOOL, args, { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw err;
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const skip = skipWithout(PEERS.amtool);

t.test('amtool check-config accepts deploy/alertmanager/alertmanager.yml', { skip }, async (t) => {
  const result = await amtool('check-config', CONFIG);
  t.equal(result.code, 0, result.out);
  t.match(result.out, /SUCCESS/);
  t.match(result.out, /1 receivers/);
});

t.test('every alert of vigil-rules.yml routes to Discord #ops', { skip }, async (t) => {
  const rules = parse(readFileSync(`${ROOT}deploy/prometheus/vigil-rules.yml`, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; labels?: Record<string, string> }> }> };
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    const labels = Object.entries({ alertname: rule.alert, ...rule.labels }).map(([k, v]) => `${k}=${v}`);
    const result = await amtool('config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=discord-ops', ...labels);
    t.equal(result.code, 0, `${rule.alert}: ${result.out}`);
  }
});

t.test('Prometheus sends its alerts to the Alertmanager service (promtool-rules.test.ts checks the file)', async (t) => {
  const prometheus = parse(readFileSync(`${ROOT}deploy/prometheus/prometheus.yml`, 'utf8')) as {
    alerting?: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  };
  const targets = prometheus.alerting?.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)) ?? [];
  t.same(targets, ['alertmanager:9093'], 'the compose service');
  const compose = parse(readFileSync(`${ROOT}deploy/compose.yaml`, 'utf8')) as { services: Record<string, unknown> };
  t.ok('alertmanager' in compose.services, 'which deploy/compose.yaml runs');
});
