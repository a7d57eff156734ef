// A header secret echoed back by a failing target, in every form a body can carry it, reaches no
// API answer, no Discord embed and no byte of the store.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { Daemon } from '../../src/daemon.js';
import { secretForms } from '../../src/probes/mask-secrets.js';
import { httpTestProbe, testConfig } from '../helpers/config.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const SECRET = 'hdr&SECRET<555>"q';
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** How a careless target repeats the header it got, one form per line. */
const FORMS: Record<string, string> = {
  raw: SECRET,
  json: JSON.stringify(SECRET).slice(1, -1),
  url: encodeURIComponent(SECRET),
  html: html(SECRET),
  base64: Buffer.from(SECRET).toString('base64'),
  basic: Buffer.from(`svc:${SECRET}`).toString('base64'),
};

t.test('secretForms covers raw, JSON, URL, HTML and base64, inside longer base64 too', async (t) => {
  const forms = secretForms(SECRET);
  for (const [name, form] of Object.entries(FORMS)) t.ok(forms.some((f) => form.includes(f)), name);
  t.ok(forms.some((f) => html(JSON.stringify(SECRET).slice(1, -1)).includes(f)), 'JSON inside HTML');
});

t.test('an echoed header secret is redacted in the API, /api/status, the #errors embed and the store', { timeout: 60_000 }, async (t) => {
  const echo = createServer((req, res) => {
    const got = String(req.headers['x-api-key'] ?? '');
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: 'bad key', got, forms: Object.fromEntries(Object.entries(FORMS).map(([k, v]) => [k, got === SECRET ? v : ''])) }));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.teardown(() => echo.close());
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const dir = tmpDir(t);
  const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/health`;
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url, headers: { 'x-api-key': SECRET }, secretHeaders: ['x-api-key'] }), intervalMs: 300, timeoutMs: 2_000, failureThreshold: 1 };
  const base = testConfig();
  const config = testConfig({
    store: { path: join(dir, 'vigil.db'), retentionMs: 86_400_000 },
    alerts: { ...base.alerts, discord: { errors: discord.webhook('errors'), warnings: discord.webhook('warnings'), ops: discord.webhook('ops') } },
    probes: [probe],
  });
  const daemon = await Daemon.start({ config, log: pino({ enabled: false }), version: 'test', listen: false });
  t.teardown(() => daemon.stop());
  const incident = await waitFor(() => [...daemon.state.incidents.values()][0], 15_000, () => 'no incident opened');
  const embed = await waitFor(() => discord.accepted('errors')[0], 15_000, () => 'no #errors embed');

  const leaks = (where: string, text: string) => {
    for (const [name, form] of Object.entries(FORMS)) t.notOk(text.includes(form), `${where}: no ${name} form`);
  };
  const evidence = incident.evidence.map((e) => e.text).join('\n') + incident.message;
  t.match(JSON.stringify(incident), /\[redacted\]/, 'the echo is kept, its secret replaced');
  leaks('incident in memory', JSON.stringify(incident) + evidence);
  leaks('#errors embed', JSON.stringify(embed.payload));
  leaks('/api/incidents/:id', (await daemon.app.inject({ url: `/api/incidents/${incident.id}` })).body);
  leaks('/api/status', (await daemon.app.inject({ url: '/api/status' })).body);
  leaks('/status', (await daemon.app.inject({ url: '/status' })).body);
  await daemon.stop();
  const files = readdirSync(dir).filter((f) => f.startsWith('vigil.db'));
  leaks('store files', files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n'));
});
