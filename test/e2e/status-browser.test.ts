// /status in real Chromium against the real `vigil run`: a fault opens an incident whose text holds
// <script>, the page shows it inert, logs no console error, fits a phone and has a dark theme.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { findPeer, PEERS, skipWithout } from '../helpers/peers.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort } from '../helpers/vigil-process.js';

const CHROMIUM = findPeer(PEERS.chromium) ?? PEERS.chromium.path;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
/** Screenshots land here (git-ignored) for a human to look at after a run. */
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

const EXPECTED = '<script>window.__pwned=1</script>';
const BROKEN_BODY = '<html><script>window.__pwned2=1</script>maintenance</html>';

/** Answers with the expected text until broken, then without it and with a script of its own (evidence). */
async function target(port: number): Promise<{ server: Server; broken: { value: boolean } }> {
  const broken = { value: false };
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(broken.value ? BROKEN_BODY : `ok ${EXPECTED}`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, broken };
}

const skip = skipWithout(PEERS.chromium);

t.test('the /status page in Chromium after a fault', { skip, timeout: 110_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = tmpDir(t, 'vigil-browser-');
  const [vigilPort, targetPort] = [await freePort(), await freePort()];
  const { server, broken } = await target(targetPort);
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const file = join(dir, 'vigil.yaml');
  // A run of a healthy target that times out shows on the page: as the incident's message (400 ms
  // timed out a fresh vigil's first run on a loaded 2-core machine, and the incident read "timed out"
  // instead of the body it got) or as the staging badge. 2 s lets healthy runs through.
  writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:${vigilPort} }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: 2s, timeout: 2s, failure_threshold: 2, success_threshold: 2 }
environments:
  production: {}
  staging: { severity_cap: S3 }
maintenance:
  - { environment: production, service: webapp, cron: "0 3 * * 0", duration: 30m, reason: weekly restart }
probes:
  - id: backend-health
    type: http
    environment: production
    service: backend
    severity: S1
    summary: Backend API down
    url: http://127.0.0.1:${targetPort}/health
    expect: { status: [200], body_contains: ${JSON.stringify(EXPECTED)} }
  - id: staging-backend-health
    type: http
    environment: staging
    service: backend
    summary: Staging backend down
    url: http://127.0.0.1:${vigilPort}/healthz
`,
  );
  const vigil = new VigilProcess(['run', '--config', file], { VIGIL_LOG_LEVEL: 'info' });
  t.teardown(async () => {
    vigil.kill('SIGKILL');
    await vigil.exited;
  });
  const base = `http://127.0.0.1:${vigilPort}`;
  await vigil.ready(vigilPort);
  broken.value = true;
  const opened = await vigil.waitForLine((l) => l.event === 'opened');
  const id = opened.incident_id as number;

  const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(() => context.close());
  const problems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  const watch = (p: typeof page) => {
    p.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    p.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    p.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  };
  watch(page);

  const res = await page.goto(`${base}/status`, { waitUntil: 'load' });
  t.equal(res?.status(), 200);
  t.equal(await page.title(), '(1) vigil status');
  t.match(await page.locator('#headline').innerText(), '1 open incident, worst S1');
  const card = page.locator(`#incident-${id}`);
  t.match(await card.innerText(), `body does not contain "${EXPECTED}"`, 'the probe message, script and all, reads as text');
  t.match(await page.locator('td[data-environment="production"][data-service="backend"] .badge').innerText(), 'S1 failing');
  t.match(await page.locator('td[data-environment="staging"][data-service="backend"] .badge').innerText(), /^(ok|unknown)$/);
  t.match(await page.locator('#maintenance').innerText(), /production \/ webapp[\s\S]*weekly restart/);
  t.match(await page.locator('#uptime').innerText(), /production \/ backend/);

  const evidence = card.locator('details.evidence');
  t.equal(await evidence.count(), 1, 'the failing response is attached as evidence');
  t.notOk(await evidence.evaluate((d) => (d as HTMLDetailsElement).open), 'evidence starts collapsed');
  t.notOk(await evidence.locator('pre').first().isVisible(), 'its text hidden until asked for');
  await evidence.locator('summary').click();
  t.match(await evidence.locator('pre').first().innerText(), 'window.__pwned2=1', 'the response body in the evidence is shown as text');
  const inert = await page.evaluate(() => ({
    pwned: (window as unknown as Record<string, unknown>).__pwned,
    pwned2: (window as unknown as Record<string, unknown>).__pwned2,
    scripts: document.querySelectorAll('script').length,
  }));
  t.same(inert, { pwned: undefined, pwned2: undefined, scripts: 0 }, 'no script element and no side effect');
  t.equal(await page.locator('#headline').evaluate((e) => getComputedStyle(e).borderLeftWidth), '6px', 'the inline stylesheet applied: its hash in the CSP matches');
  const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'status.png'), fullPage: true });

  await page.emulateMedia({ colorScheme: 'dark' });
  const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  t.not(darkBg, lightBg, 'a dark theme under prefers-color-scheme: dark');
  await page.screenshot({ path: join(OUTPUT, 'status-dark.png'), fullPage: true });

  await page.setViewportSize({ width: 375, height: 740 });
  await page.emulateMedia({ colorScheme: 'light' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `nothing wider than a phone screen (overflow ${overflow}px)`);
  await page.screenshot({ path: join(OUTPUT, 'status-phone.png'), fullPage: true });

  await card.locator(`a[href="/status/incidents/${id}"]`).first().click();
  await page.waitForURL(`${base}/status/incidents/${id}`);
  t.match(await page.locator('h3').first().innerText(), `#${id} S1 Backend API down`);
  t.match(await page.locator('ol.timeline').innerText(), 'opened');
  t.match(await page.locator('#review').innerText(), 'Post-incident review');
  await page.screenshot({ path: join(OUTPUT, 'status-incident.png'), fullPage: true });

  t.same(problems, [], 'no console errors or warnings, no failed requests');
});
