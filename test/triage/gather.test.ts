// Gathering triage against real peers: an in-process SSH host playing docker, a database port nobody listens on.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { createTransports } from '../../src/transport/index.js';
import { cut, gatherTriage, MAX_EVIDENCE_CHARS, MAX_SUMMARY_CHARS, summarise } from '../../src/triage/gather.js';
import { planTriage } from '../../src/triage/plan.js';
import { unusedPort } from '../helpers/http-servers.js';
import { startSshServer, type FakeSshHost } from '../helpers/ssh-server.js';
import type { HasTeardown } from '../helpers/tmp.js';
import { matchExactly } from '../helpers/match.js';

const log = pino({ enabled: false });
const DB_PASSWORD = 'db-pw-s3cret';
const SECRETS = ['tok3n-abcdef', 'url-pw-xyz', 'api-k3y-value', DB_PASSWORD];

async function fleet(t: HasTeardown, host: FakeSshHost) {
  const dbPort = await unusedPort();
  const yaml = `
environments: { production: {} }
hosts:
  app-1: { environment: production, address: 127.0.0.1, port: ${host.port}, user: vigil, private_key_env: KEY, host_key: "${host.hostKeyLine}", compose_dir: /srv/app }
databases:
  prod-db: { environment: production, url_env: DB, impact_query: "SELECT 1" }
probes:
  - { id: prod-db-ready, type: pg_ready, database: prod-db }
  - { id: app-ps, type: compose_ps, host: app-1, services: { db: S1 } }
`;
  const config = loadConfigText(yaml, 'gather-test.yaml', { KEY: host.clientKey.private, DB: `postgres://vigil:${DB_PASSWORD}@127.0.0.1:${dbPort}/app` });
  const transports = createTransports(config, log);
  t.teardown(() => transports.close());
  const steps = planTriage({ environment: 'production', service: 'db', rootProbe: 'prod-db-ready', rootKey: 'prod-db-ready' }, config);
  return { transports, steps, dbPort };
}

function logLines(count: number, extra: string[] = []): string {
  const lines = Array.from({ length: count }, (_, i) => `shootify-db-1  | 2026-11-27T21:15:${String(i % 60).padStart(2, '0')}.000Z LOG:  checkpoint ${i} ${'x'.repeat(120)}`);
  return [...lines, ...extra].join('\n');
}

t.test('every step answers: evidence per step, secrets masked everywhere, logs cut from their end, the DB error kept', async (t) => {
  const host = await startSshServer(t);
  host.reply = (command) =>
    command.includes(' logs ')
      ? {
          stdout: logLines(49, [
            `shootify-db-1  | 2026-11-27T21:16:00.000Z Authorization: Bearer ${SECRETS[0]} url=postgres://app:${SECRETS[1]}@db:5432/app api_key=${SECRETS[2]} last line`,
          ]),
        }
      : undefined;
  const { transports, steps, dbPort } = await fleet(t, host);
  const result = await gatherTriage(steps, { transports, log });

  t.same(result.evidence.map((e) => e.source), ['compose-ps:app-1', 'logs:app-1/db', 'connections:prod-db', 'long-queries:prod-db', 'impact-failed:prod-db']);
  const text = (source: string) => result.evidence.find((e) => e.source === source)?.text ?? '';
  t.match(text('compose-ps:app-1'), /shootify-db-1\s+db\s+running/);
  t.match(text('connections:prod-db'), `connection refused by 127.0.0.1:${dbPort}/app`, 'the database error is the evidence');
  const logs = text('logs:app-1/db');
  t.ok(logs.length <= MAX_EVIDENCE_CHARS + 2, `the 50 lines are cut to size (${logs.length} chars)`);
  t.match(logs, /^…\n/, 'marked as cut at the start');
  t.match(logs, /Bearer \*\*\* url=postgres:\/\/app:\*\*\*@db:5432\/app api_key=\*\*\* last line$/, 'the newest line is kept, masked');
  t.equal(result.failed, 3);
  t.equal(result.unfinished, 0);
  t.match(result.summary, /^✗ connections prod-db: connection refused/, 'failures lead the summary');
  t.match(result.summary, '· db last line: Authorization: Bearer *** url=');
  t.ok(result.summary.length <= MAX_SUMMARY_CHARS + 60);
  const all = JSON.stringify(result);
  for (const secret of SECRETS) t.notOk(all.includes(secret), `${secret} is masked`);
  t.ok(host.commands.includes("cd /srv/app && docker compose logs --no-color --timestamps --tail 50 db"), 'the runbook command, quoted');
});

t.test('a step hanging past the budget is cut off: gathering ends at the budget and says which step did not finish', async (t) => {
  const host = await startSshServer(t);
  host.reply = (command) => (command.includes(' logs ') ? { hang: true } : undefined);
  const { transports, steps } = await fleet(t, host);
  const started = Date.now();
  // The step's own timeout is longer than the budget: the budget is what cuts it off.
  const result = await gatherTriage(steps, { transports, log, budgetMs: 1_000, stepTimeoutMs: 30_000 });
  const took = Date.now() - started;
  t.ok(took < 5_000, `returned after ${took} ms, not when the hanging command would`);
  t.equal(result.unfinished, 1);
  t.match(result.evidence.find((e) => e.source === 'logs:app-1/db'), { text: 'docker compose logs db on app-1 did not finish within 1s' });
  t.match(result.evidence.find((e) => e.source === 'compose-ps:app-1')?.text, 'shootify-db-1', 'the steps that answered are kept');
  t.match(result.summary, '✗ docker compose logs db on app-1 did not finish within 1s');
  // The cut-off command's channel is closed, so the host is not left running it.
  t.ok(await waitUntil(() => host.stats.running === 0, 5_000), 'the hanging command was closed on the host');
});

t.test('shutdown interrupts gathering at once and says so', async (t) => {
  const host = await startSshServer(t);
  host.reply = () => ({ hang: true });
  const { transports, steps } = await fleet(t, host);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const started = Date.now();
  const result = await gatherTriage(steps.filter((s) => s.kind === 'compose_ps'), { transports, log, signal: controller.signal });
  t.ok(Date.now() - started < 5_000, 'did not wait for the 20 s budget');
  matchExactly(t, result.evidence, [{ source: 'compose-ps:app-1', text: /interrupted: vigil is shutting down/ }]);
});

t.test('no steps: nothing to say, at once', async (t) => {
  const result = await gatherTriage([], { transports: createTransports(loadConfigText('environments: { production: {} }\nprobes: []\n', 'x.yaml', {}), log), log });
  t.same(result, { evidence: [], summary: '', failed: 0, unfinished: 0 });
});

t.test('cut keeps whole lines from the start, or from the end for logs; summarise stays short and masked', async (t) => {
  const long = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
  const head = cut(long);
  t.ok(head.length <= MAX_EVIDENCE_CHARS && head.startsWith('line 0\n') && head.endsWith('\n…'));
  const tail = cut(long, true);
  t.ok(tail.length <= MAX_EVIDENCE_CHARS && tail.startsWith('…\nline ') && tail.endsWith('line 499'));
  t.equal(cut('short'), 'short');
  const many = Array.from({ length: 40 }, (_, i) => ({ source: `s${i}`, ok: i % 2 === 0, text: '', headline: `step ${i} password=hunter2 ${'y'.repeat(40)}` }));
  const summary = summarise(many);
  t.ok(summary.length <= MAX_SUMMARY_CHARS + 60, `summary is ${summary.length} chars`);
  t.match(summary, /^✗ step 1 /, 'failures first');
  t.match(summary, /… \d+ more in the incident's evidence$/);
  t.notOk(summary.includes('hunter2'));
});

async function waitUntil(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

t.test('the df -P step: the table as evidence, the fullest mounts in the headline, pseudo filesystems left out', async (t) => {
  const host = await startSshServer(t);
  const df = readFileSync(new URL('../fixtures/host/df-P.txt', import.meta.url), 'utf8');
  host.reply = (command) => (command === 'LC_ALL=C df -P' ? { stdout: df } : { stderr: 'unexpected\n', code: 2 });
  const { transports } = await fleet(t, host);
  const result = await gatherTriage([{ kind: 'disk', host: 'app-1', source: 'df:app-1' }], { transports, log });
  t.match(result.evidence[0], { source: 'df:app-1', text: /^Filesystem +1024-blocks[^\n]+\n(.+\n)*\/dev\/sda1 +50620216 46012400 +4591432 +91% \/\n/ });
  t.equal(result.summary, '· disk app-1: / 91%, /var/lib/postgresql data 21%');
  t.equal(result.failed, 0);
  host.reply = () => ({ stderr: 'df: command not found\n', code: 127 });
  const broken = await gatherTriage([{ kind: 'disk', host: 'app-1', source: 'df:app-1' }], { transports, log });
  t.equal(broken.failed, 1, 'a df that cannot run is a failed step with its reason');
});
