// Makes docs/status.png, the README's picture of /status: runs `vigil demo` until the database
// incident is open with its symptom, then photographs the page in Debian's Chromium.
// Usage: npm run build && node dist/scripts/screenshot.js [--out docs/status.png] [--speed 4]
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/status.png' }, speed: { type: 'string', default: '4' } } });

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe().catch(() => null);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const demo = spawn(process.execPath, [join(ROOT, 'bin/vigil.js'), 'demo', '--speed', values.speed!], { stdio: ['ignore', 'pipe', 'inherit'] });
let printed = '';
demo.stdout!.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
try {
  const statusUrl = await until('the demo to print its /status URL', 60_000, async () => /status page\s+(http\S+\/status)/.exec(printed)?.[1] ?? null);
  const api = statusUrl.replace(/\/status$/, '');
  // The moment worth a picture: the database is down and the backend joined it as a symptom.
  await until('the database incident with its symptom', 180_000, async () => {
    const res = await fetch(`${api}/api/incidents?state=open`);
    const { incidents } = (await res.json()) as { incidents: Array<{ severity: string; symptoms: string[] }> };
    return incidents.some((i) => i.severity === 'S1' && i.symptoms.length > 0) ? true : null;
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // playwright-core gives each launch a fresh profile of its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, colorScheme: 'light' });
    await page.goto(statusUrl, { waitUntil: 'load' });
    const out = resolve(ROOT, values.out!);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
  }
} finally {
  demo.kill('SIGINT');
  await new Promise((r) => demo.once('close', r));
}
