// Benchmark (not a test): CPU per incident-engine step at several fleet sizes, the engine alone (no
// probes, no store). One subject of N runs per step; one probe in fifty flaps, so some steps change
// the state (counters, incidents opening and resolving) and most change nothing.
// Usage: npm run build && node dist/bench/engine-step.js [--subjects 1000,5000,20000]
import { parseArgs } from 'node:util';
import { loadConfigText } from '../src/config/load.js';
import { engineConfigOf } from '../src/daemon.js';
import { initialState, step } from '../src/incidents/engine.js';

const T0 = Date.UTC(2025, 0, 6);

const { values } = parseArgs({ options: { subjects: { type: 'string', default: '1000,5000,20000' } } });
for (const n of values.subjects.split(',').map(Number)) {
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  // The engine's config as the daemon makes it, from the same kind of config file as bench/http-fleet.ts.
  const probes = ids.map((id, i) => `  - { id: ${id}, type: http, environment: bench, service: svc${i % 20}, url: "http://127.0.0.1:9/${id}" }`);
  const yaml = `defaults: { interval: 10s, timeout: 5s }\nenvironments: { bench: {} }\nprobes:\n${probes.join('\n')}\n`;
  const cfg = engineConfigOf(loadConfigText(yaml, 'bench.yaml', {}));
  let state = initialState();
  let now = T0;
  // The first round: every subject appears once.
  for (const id of ids) state = step(state, { probe: id, findings: [{ key: id, ok: true, message: 'ok' }] }, (now += 1), cfg).state;
  const steps = Math.max(20_000, n * 2);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i += 1) {
    const at = (i * 7919) % n;
    const failing = at % 50 === 0 && Math.floor(i / n) % 2 === 0;
    state = step(state, { probe: ids[at]!, findings: [{ key: ids[at]!, ok: !failing, message: failing ? 'down' : 'ok' }] }, (now += 1), cfg).state;
  }
  const cpu = process.cpuUsage(cpu0);
  const result = {
    subjects: n,
    steps,
    cpu_us_per_step: +((cpu.user + cpu.system) / steps).toFixed(2),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
