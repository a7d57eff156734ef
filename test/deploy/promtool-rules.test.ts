// deploy/prometheus: the scrape config and vigil's alert rules pass promtool's checks and rule tests, and name real metrics.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics.js';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const PROMTOOL = findPeer(PEERS.promtool) ?? PEERS.promtool.path;

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: DIR, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw err;
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const skip = skipWithout(PEERS.promtool);

t.test('promtool check rules and check config', { skip }, async (t) => {
  const rules = await promtool('check', 'rules', 'vigil-rules.yml');
  t.equal(rules.code, 0, rules.out);
  t.match(rules.out, /SUCCESS: 8 rules found/);
  const config = await promtool('check', 'config', 'prometheus.yml');
  t.equal(config.code, 0, config.out);
  t.match(config.out, /SUCCESS: 1 rule files found/);
});

t.test('promtool test rules: every alert fires on its failure and stays quiet otherwise', { skip }, async (t) => {
  const result = await promtool('test', 'rules', 'vigil-rules.test.yml');
  t.equal(result.code, 0, result.out);
  t.match(result.out, /SUCCESS/);

  // Every alert has at least one test that expects it to fire.
  const rules = parse(readFileSync(`${DIR}vigil-rules.yml`, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
  const tests = parse(readFileSync(`${DIR}vigil-rules.test.yml`, 'utf8')) as {
    tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
  };
  const firing = new Set(tests.tests.flatMap((g) => g.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  for (const { alert } of rules.groups.flatMap((g) => g.rules)) t.ok(firing.has(alert), `${alert} is tested firing`);
});

t.test('the rules name metrics vigil exports', async (t) => {
  const text = readFileSync(`${DIR}vigil-rules.yml`, 'utf8');
  const used = new Set([...text.matchAll(/\b(vigil_[a-z_]+)/g)].map((m) => m[1] ?? ''));
  const metrics = createMetrics('test', { defaults: false });
  const exported = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    exported.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(m.name + suffix);
  }
  t.ok(used.size >= 5, `rules use ${[...used].join(', ')}`);
  for (const name of used) {
    t.ok(exported.has(name), `${name} is exported`);
  }
});
