// Real Chromium against the real `vigil run`: the "Acknowledge" button of an alert the fake Discord received
// opens the action page; a name and a tap acknowledge the incident, and #ops says so. Tampered and expired links: 403.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { ACTION_TOKEN_TTL_MS, actionTokenFor } from '../../src/action-token.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';

const CHROMIUM = findPeer(PEERS.chromium) ?? PEERS.chromium.path;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SECRET = 'e2e-action-secret-7d3f9a1c5e2b8d4f6a0c';

const skip = skipWithout(PEERS.chromium);

t.test('acknowledging from the alert link in Chromium', { skip, timeout: 110_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = tmpDir(t, 'vigil-act-');
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const target: Server = createServer((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
  await new Promise<void>((resolve) => target.listen(targetPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    target.closeAllConnections();
    target.close(() => resolve());
  }));
  const base = `http://127.0.0.1:${vigilPort}`;
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:${vigilPort}, public_url: ${base}, action_secret_env: VIGIL_ACTION_SECRET }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 500ms, timeout: 400ms, failure_threshold: 2, success_threshold: 2 }
environments: { production: {} }
alerts:
  discord:
    errors: { url_env: DISCORD_WEBHOOK_ERRORS }
    ops: { url_env: DISCORD_WEBHOOK_OPS }
probes:
  - { id: backend-health, type: http, environment: production, service: backend, severity: S1, summary: Backend API down, url: "http://127.0.0.1:${targetPort}/health" }
`,
  );
  const vigil = new VigilProcess(['run', '--config', file], {
    VIGIL_LOG_LEVEL: 'info',
    VIGIL_ACTION_SECRET: SECRET,
    DISCORD_WEBHOOK_ERRORS: discord.webhook('errors'),
    DISCORD_WEBHOOK_OPS: discord.webhook('ops'),
  });
  t.teardown(async () => {
    vigil.kill('SIGKILL');
    await vigil.exited;
  });
  const alert = await waitFor(() => discord.accepted('ops').find((m) => m.payload.content?.startsWith('[INCIDENT]')), 30_000, () => `no [INCIDENT] in #ops; stderr: ${vigil.stderr}`);
  const ackUrl = (alert.payload.components[0].components as Array<{ label: string; url: string }>).find((b) => b.label === 'Acknowledge')!.url;
  t.match(ackUrl, new RegExp(`^${base}/act/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  const id = (await vigil.waitForLine((l) => l.event === 'opened')).incident_id as number;

  const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 375, height: 740 } });
  t.teardown(() => context.close());
  const problems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));

  // A tampered link (the payload edited to a later expiry) and an expired one: refused, nothing changed.
  const [, signature] = ackUrl.split('/act/')[1]!.split('.') as [string, string];
  const later = Buffer.from(JSON.stringify({ v: 1, i: id, e: Math.floor(Date.now() / 1000) + 30 * 86_400 })).toString('base64url');
  const tampered = await page.goto(`${base}/act/${later}.${signature}`);
  t.equal(tampered?.status(), 403);
  t.match(await page.locator('main').innerText(), /This link is not valid[\s\S]*not signed by this vigil, or it was changed/);
  const expired = await page.goto(`${base}/act/${actionTokenFor(SECRET, id, Date.now() - ACTION_TOKEN_TTL_MS - 60_000)}`);
  t.equal(expired?.status(), 403);
  t.match(await page.locator('main').innerText(), /expired/);
  t.equal((await (await fetch(`${base}/api/incidents/${id}`)).json()).state, 'open', 'still open after both');
  // Chromium reports each 403 document load on the console; those two were the point.
  t.same(problems.filter((p) => !p.includes('status of 403')), []);
  problems.length = 0;

  const res = await page.goto(ackUrl);
  t.equal(res?.status(), 200);
  t.match(await page.locator('#act h1').innerText(), `#${id} S1 Backend API down`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `fits a phone (overflow ${overflow}px)`);
  await page.locator('#by').fill('Ana');
  await Promise.all([page.waitForURL(`${base}/status/incidents/${id}`), page.getByRole('button', { name: 'Acknowledge' }).click()]);
  t.match(await page.locator(`#incident-${id} .facts`).innerText(), /acknowledged by Ana/);
  t.equal(await page.locator('#how-to-ack').count(), 0, 'acknowledged: no more how-to');

  const acked = await waitFor(() => discord.accepted('ops').find((m) => m.payload.content?.startsWith('[ACK]')), 30_000, () => 'no [ACK] in #ops');
  t.equal(acked.payload.content, '[ACK] S1 - Backend API down on production. Acknowledged by Ana.');
  const stored = await (await fetch(`${base}/api/incidents/${id}`)).json();
  t.match(stored, { state: 'acknowledged', acknowledged_by: 'Ana' });

  // The name is remembered: the link again shows it filled in, and offers what is left to do.
  await page.goto(ackUrl);
  t.equal(await page.locator('#by').inputValue(), 'Ana');
  t.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0, 'already acknowledged');
  t.equal(await page.getByRole('button', { name: 'Resolve' }).count(), 1);
  t.same(problems, [], 'no console errors (no CSP violation)');
});
