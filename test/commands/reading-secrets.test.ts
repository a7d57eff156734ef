// `vigil incidents` and `vigil review` print stored text (messages, evidence, notes): scrubbed of every configured secret, like the HTTP API.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { incidentsCommand } from '../../src/commands/incidents.js';
import { reviewCommand } from '../../src/commands/review.js';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { makeIncident, NOW } from '../server/harness.js';

const SECRETS = {
  VIGIL_API_TOKEN: 'SECRET-api-token-b71c44d0',
  HOOK_OPS: 'https://discord.com/api/webhooks/333/SECRET-webhook-ops-e5f61a',
  DB_URL: 'postgres://vigil:SECRET-db-password-93af@10.0.0.2:5432/app',
  AUTH_HEADER: 'Bearer SECRET-upstream-header-2c7d',
};
const PLANTED = ['SECRET-api-token-b71c44d0', 'SECRET-webhook-ops-e5f61a', 'SECRET-db-password-93af', 'SECRET-upstream-header-2c7d'];

/** What a command printed to stdout, and its exit code. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
  }
}

t.test('incidents --json and review hide every secret a probe echoed into the store', async (t) => {
  const dir = tmpDir(t);
  const db = join(dir, 'vigil.db');
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `
server: { api_token_env: VIGIL_API_TOKEN }
store: { path: ${db} }
environments: { production: {} }
databases:
  main: { environment: production, url_env: DB_URL }
alerts:
  discord: { ops: { url_env: HOOK_OPS } }
probes:
  - { id: backend-health, type: http, environment: production, service: backend, severity: S1, summary: Backend API down, url: "https://api.example.test/health", headers: { Authorization: { value_env: AUTH_HEADER } } }
`,
  );
  for (const [name, value] of Object.entries(SECRETS)) process.env[name] = value;
  t.teardown(() => {
    for (const name of Object.keys(SECRETS)) delete process.env[name];
  });

  const store = openStore(db);
  // A careless target echoed the request, the database error quoted its URL, an operator pasted a token.
  const incident = makeIncident({
    id: 1,
    message: `could not connect to ${SECRETS.DB_URL}`,
    evidence: [
      { at: NOW, source: 'backend-health', text: `echo: authorization: ${SECRETS.AUTH_HEADER}` },
      { at: NOW, source: 'pg', text: `FATAL for ${SECRETS.DB_URL}` },
    ],
    timeline: [
      { at: NOW - 300_000, event: 'opened', detail: `connect ${SECRETS.DB_URL} refused` },
      { at: NOW - 60_000, event: 'note', by: 'ana', detail: `tried ${SECRETS.HOOK_OPS} with ${SECRETS.VIGIL_API_TOKEN}` },
    ],
  });
  store.apply({ subjects: [], incidents: [incident], timeline: incident.timeline.map((entry) => ({ incidentId: 1, entry })), messages: [], events: [] });
  store.close();

  const json = await capture(() => incidentsCommand(file, { open: false, json: true }));
  t.equal(json.code, 0);
  const listed = JSON.parse(json.out) as { incidents: Array<{ id: number; evidence: Array<{ text: string }>; timeline: unknown[] }> };
  t.equal(listed.incidents.length, 1, 'the incident is listed');
  t.equal(listed.incidents[0]!.evidence.length, 2, 'with its evidence (so the check below looks at something)');
  t.match(listed.incidents[0]!.evidence[0]!.text, /^echo: authorization: /);
  for (const secret of PLANTED) t.notOk(json.out.includes(secret), `incidents --json does not print ${secret}`);
  t.match(json.out, /\[redacted\]/, 'the secrets are replaced, not the text dropped');

  const table = await capture(() => incidentsCommand(file, { open: false, json: false }));
  t.equal(table.code, 0);
  t.match(table.out, /#1 +S1 +open/);
  for (const secret of PLANTED) t.notOk(table.out.includes(secret), `incidents does not print ${secret}`);

  const review = await capture(() => reviewCommand(file, { id: '1' }, () => NOW));
  t.equal(review.code, 0);
  t.match(review.out, /^# Post-incident review: #1 S1 Backend API down on production\n/);
  t.match(review.out, /echo: authorization: \[redacted\]/, 'the root cause quotes the evidence, scrubbed');
  t.match(review.out, /\| note \| ana \| tried \[redacted\] with \[redacted\] \|/, 'and the note');
  for (const secret of PLANTED) t.notOk(review.out.includes(secret), `review does not print ${secret}`);
});
