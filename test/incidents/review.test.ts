// The post-incident review's Markdown, against golden files: all five sections, from incidents the engine really made.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { impactUsersOf, renderReview } from '../../src/incidents/review.js';
import type { Incident } from '../../src/types.js';
import { config, fail, Harness, meta, MINUTE, pass, SECOND } from './fixtures.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/review/${name}`, import.meta.url));

/** Compares with the golden file; UPDATE_GOLDEN=1 rewrites it (then read the diff before committing). */
function golden(t: Test, name: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(fixture(name), actual);
  t.equal(actual, readFileSync(fixture(name), 'utf8'), `matches test/fixtures/review/${name}`);
}

const db = meta('db-ready', { type: 'pg_ready', service: 'db', severity: 'S2', summary: 'Backend DB unreachable', escalate: [{ after: 15 * MINUTE, severity: 'S1' }] });
const api = meta('backend-health', { summary: 'Backend API down', dependsOn: ['db-ready'] });
const services = new Map([[db.id, db.service], [api.id, api.service]]);
const serviceOf = (key: string) => services.get(key);

function databaseOutage(): Harness {
  const h = new Harness({ ...config([db, api]), publicUrl: 'https://vigil.example.internal/' });
  h.at(0).run('db-ready', fail('db-ready', 'connection refused by 10.0.0.2:5432'));
  h.at(30 * SECOND).run('db-ready', fail('db-ready', 'connection refused by 10.0.0.2:5432', { evidence: 'pg_isready: 10.0.0.2:5432 - no response\n```\nnot a fence breaker' }));
  h.at(40 * SECOND).run('backend-health', fail('backend-health', 'HTTP 500'));
  h.at(70 * SECOND).run('backend-health', fail('backend-health', 'HTTP 500'));
  h.at(4 * MINUTE).cmd({ type: 'ack', incidentId: 1, by: 'ana' });
  h.at(16 * MINUTE).tick();
  h.at(20 * MINUTE).cmd({ type: 'note', incidentId: 1, by: 'ana', text: 'disk full on 10.0.0.2 | WAL archive stuck' });
  h.at(24 * MINUTE).run('backend-health', pass('backend-health'));
  h.at(25 * MINUTE).run('db-ready', pass('db-ready'));
  h.at(25 * MINUTE + 30 * SECOND).run('db-ready', pass('db-ready'));
  return h;
}

t.test('an S1 that resolved: the five sections, every timeline event, impact users from triage evidence', async (t) => {
  const h = databaseOutage();
  const stored = h.incident(1);
  t.equal(stored.state, 'resolved');
  t.match(stored.timeline.at(-1), { event: 'review', detail: 'Post-incident review draft: https://vigil.example.internal/status/incidents/1' });
  const incident: Incident = { ...stored, evidence: [...stored.evidence, { at: stored.openedAt, source: 'impact:prod-backend-db', text: '42\n' }] };
  t.equal(impactUsersOf(incident), 42);
  const markdown = renderReview({ incident, impactUsers: impactUsersOf(incident), serviceOf, now: 0 });
  for (const section of ['## Timeline', '## Root cause', '## Impact', '## Resolution', '## Action items']) {
    t.ok(markdown.includes(`\n${section}\n`), section);
  }
  t.equal(renderReview({ incident, impactUsers: 42, serviceOf, now: 123 }), markdown, 'deterministic: now is not read for a resolved incident');
  golden(t, 's1-database-resolved.md', markdown);
});

t.test('an incident still open after a hand-over: root cause names the first failing probe', async (t) => {
  const h = new Harness(config([meta('db-ready', { ...db, escalate: [] }), api]));
  h.repeat(2, 'db-ready', fail('db-ready', 'too many clients (53300)'));
  h.repeat(2, 'backend-health', fail('backend-health', 'HTTP 502'));
  h.run('db-ready', pass('db-ready'));
  h.run('backend-health', fail('backend-health', 'HTTP 502'));
  h.now += 30 * SECOND;
  h.run('db-ready', pass('db-ready'));
  const incident = h.incident(1);
  t.match(incident, { state: 'open', rootKey: 'backend-health', formerRoots: ['db-ready'] });
  const markdown = renderReview({ incident, impactUsers: impactUsersOf(incident), now: incident.openedAt + 10 * MINUTE });
  t.equal(impactUsersOf(incident), null);
  golden(t, 'handed-over-open.md', markdown);
});
