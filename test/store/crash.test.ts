// A vigil process killed with SIGKILL mid-write leaves every committed step whole and nothing twice.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** The loader flags tap runs us with, so a child node can import the TypeScript sources too. */
const loaderArgs = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));
const storeModule = new URL('../../src/store/sqlite.js', import.meta.url).href;

// Applies incident 1 (subject, timeline entry, outbox message) then keeps applying more until killed.
const child = `
import { openStore } from ${JSON.stringify(storeModule)};
const store = openStore(process.env.VIGIL_TEST_DB);
const T0 = 1736132400000;
function step(id) {
  store.apply({
    subjects: [{ key: 'p' + id, probe: 'p' + id, ok: false, failures: 2, successes: 0, severity: 'S1', since: T0, incidentId: id }],
    incidents: [{ id, state: 'open', severity: 'S1', environment: 'production', service: 'db', summary: 'Backend DB unreachable',
      rootProbe: 'p' + id, rootKey: 'p' + id, symptoms: [], openedAt: T0, acknowledgedAt: null, acknowledgedBy: null,
      resolvedAt: null, respondBy: T0 + 1800000, lastReminderAt: null, message: 'refused', timeline: [], evidence: [] }],
    timeline: [{ incidentId: id, entry: { at: T0, event: 'opened', detail: 'refused' } }],
    messages: [{ sink: 'discord', channel: 'ops', createdAt: T0, incidentId: id, event: 'opened', body: { content: '[INCIDENT] ' + id } }],
    events: [],
  });
}
step(1);
process.stdout.write('applied\\n');
let id = 2;
setInterval(() => { for (let i = 0; i < 25; i++) step(id++); }, 0);
`;

t.test('SIGKILL after apply: the incident and its message are there exactly once', { timeout: 60_000 }, async (t) => {
  t.ok(loaderArgs.length > 0, 'found the TypeScript loader in process.execArgv');
  const file = join(tmpDir(t), 'vigil.db');
  const proc = spawn(process.execPath, [...loaderArgs, '--input-type=module', '-e', child], {
    env: { ...process.env, VIGIL_TEST_DB: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit');

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never applied; stderr: ${stderr}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('applied')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', () => reject(new Error(`child exited early; stderr: ${stderr}`)));
  });
  // Let it get well into the write loop, so the kill lands between (or inside) transactions.
  await new Promise((r) => setTimeout(r, 300));
  proc.kill('SIGKILL');
  const [, signal] = await exited;
  t.equal(signal, 'SIGKILL');

  const store = openStore(file);
  t.teardown(() => store.close());
  const state = store.loadEngineState(0);
  const n = state.incidents.length;
  t.ok(n > 1, `the child committed ${n} steps before it died`);
  t.same(state.incidents.map((i) => i.id), Array.from({ length: n }, (_, i) => i + 1), 'incidents 1..n, no gaps, no doubles');
  t.ok(state.incidents.every((i) => i.timeline.length === 1), 'each with exactly its one timeline entry');
  t.equal(state.subjects.length, n, 'each with its subject');
  t.equal(state.nextIncidentId, n + 1);

  const messages = store.pendingMessages(1_000_000);
  t.equal(store.pendingCount(), n);
  t.same(messages.map((m) => m.incidentId), state.incidents.map((i) => i.id), 'one message per incident, in order');
  t.same(messages.filter((m) => m.incidentId === 1).map((m) => m.body), [{ content: '[INCIDENT] 1' }], 'incident 1 announced once');
});
