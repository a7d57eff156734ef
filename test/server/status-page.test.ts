// GET /status and /status/incidents/:id through inject(): escaping, states, incidents, uptime, maintenance, 404s, headers.
import { createHash } from 'node:crypto';
import t from 'tap';
import { testConfig } from '../helpers/config.js';
import { harness, makeIncident, NOW, subject } from './harness.js';

const SCRIPT = '<script>window.__pwned=1</script>';
const ESCAPED = '&lt;script&gt;window.__pwned=1&lt;/script&gt;';

/** The text of the element with this id, e.g. section('incidents'), so assertions hit the right part of the page. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  if (start < 0) throw new Error(`no section ${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

function cell(html: string, environment: string, service: string): string {
  const start = html.indexOf(`<td class="cell`, html.indexOf(`data-environment="${environment}" data-service="${service}"`) - 80);
  return html.slice(start, html.indexOf('</td>', start));
}

t.test('/status: HTML with a strict CSP, no script, viewport, dark mode and auto-refresh', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  const res = await h.app.inject('/status');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  const csp = String(res.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.notMatch(csp, /script-src/, 'no script source is allowed at all');
  // The browser hashes exactly the text between <style> and </style>; so does this test.
  t.equal(res.body.split('<style').length, 2, 'one style element');
  const css = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1];
  t.ok(css && css.includes('prefers-color-scheme'), 'the stylesheet is inside the <style> element');
  const hash = createHash('sha256').update(css ?? '', 'utf8').digest('base64');
  t.equal(/style-src ('[^;]+')/.exec(csp)?.[1], `'sha256-${hash}'`, 'style-src names the hash of the inline style, and nothing else');
  t.equal(
    csp,
    `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'every other directive as before',
  );
  t.notMatch(res.body, /nonce/i, 'no nonce in the page');
  t.notMatch(csp, /nonce/i, 'no nonce in the policy');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['cache-control'], 'no-store');
  t.notMatch(res.body, /<script/i, 'the page has no script at all');
  t.match(res.body, /^<!doctype html>/);
  t.match(res.body, '<meta name="viewport" content="width=device-width, initial-scale=1">');
  t.match(res.body, '<meta http-equiv="refresh" content="30">');
  t.match(res.body, /@media \(prefers-color-scheme: dark\)/);
  t.match(res.body, /@media \(max-width: 600px\)/);
  t.match(section(res.body, 'headline'), 'Waiting for the first probe results', 'nothing has run yet');
});

t.test('/status: environments × services with state and worst severity', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  h.subjects.set('backend-health', subject('backend-health', false, { incidentId: 7 }));
  h.subjects.set('compute-health', subject('compute-health', true));
  h.seed(makeIncident({ id: 7, severity: 'S2', message: 'HTTP 503 Service Unavailable (expected 200)' }));
  h.seed(makeIncident({ id: 8, severity: 'S1', rootProbe: 'backend-health', rootKey: 'backend-health:tls', message: 'certificate expired' }));
  const html = (await h.app.inject('/status')).body;

  t.match(html, /<th scope="col">production<\/th><th scope="col">staging<\/th>/, 'environments as columns, in config order');
  const backend = cell(html, 'production', 'backend');
  t.match(backend, 'class="cell state-failing sev-S1"', 'the worst of the service\'s open incidents');
  t.match(backend, '<span class="badge">S1 failing</span>');
  t.match(backend, '0/1 ok');
  t.match(backend, 'HTTP 503 Service Unavailable (expected 200)', 'the failing probe\'s message');
  t.match(backend, '<a href="/status/incidents/7">#7</a>');
  const compute = cell(html, 'production', 'compute');
  t.match(compute, 'class="cell state-ok"');
  t.match(compute, '1/1 ok');
  t.match(cell(html, 'staging', 'backend'), 'class="cell state-unknown"', 'a probe that has not run');
  t.match(html, /<th scope="row">compute<\/th>[\s\S]*?<td class="cell none">/, 'staging has no compute service');
  t.match(section(html, 'headline'), /tone-S1[\s\S]*2 open incidents, worst S1/);
});

t.test('/status: a service whose probes pass again while its incident is still open reads "recovering", not "S2 ok"', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  h.subjects.set('compute-health', subject('compute-health', true, { incidentId: 4 }));
  h.seed(makeIncident({ id: 4, severity: 'S2', service: 'compute', rootProbe: 'compute-health', rootKey: 'compute-health' }));
  const compute = cell((await h.app.inject('/status')).body, 'production', 'compute');
  t.match(compute, '<span class="badge">recovering</span>');
  t.notMatch(compute, /S2 ok/);
});

t.test('/status: a probe message or evidence holding <script> renders as text', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  h.subjects.set('backend-health', subject('backend-health', false, { incidentId: 1 }));
  h.seed(
    makeIncident({
      id: 1,
      summary: `Backend ${SCRIPT}`,
      message: `body does not contain "${SCRIPT}"`,
      timeline: [{ at: NOW - 60_000, event: 'note', by: '<img src=x onerror=alert(1)>', detail: SCRIPT }],
      evidence: [{ at: NOW, source: 'http"><b>', text: `HTTP 500\n${SCRIPT}` }],
    }),
  );
  for (const path of ['/status', '/status/incidents/1']) {
    const html = (await h.app.inject(path)).body;
    t.notMatch(html, /<script/i, `${path}: no live script element`);
    t.notMatch(html, /<img/i, `${path}: no live img element`);
    t.notMatch(html, /"><b>/, `${path}: no attribute break-out`);
    t.match(html, ESCAPED, `${path}: the text is shown, escaped`);
    t.match(html, '&lt;img src=x onerror=alert(1)&gt;');
  }
});

t.test('/status: open incidents with timeline and collapsible evidence; recently resolved ones listed', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  h.seed(
    makeIncident({
      id: 3,
      respondBy: NOW - 60_000,
      symptoms: ['compute-health'],
      timeline: [
        { at: NOW - 5 * 60_000, event: 'opened', detail: 'connection refused by 127.0.0.1:9' },
        { at: NOW - 2 * 60_000, event: 'symptom', detail: 'compute-health failing' },
      ],
      evidence: [{ at: NOW - 5 * 60_000, source: 'compose ps', text: 'backend  exited (1)' }],
    }),
  );
  h.seed(makeIncident({ id: 2, state: 'resolved', severity: 'S3', summary: 'Export failures', openedAt: NOW - 3_600_000, resolvedAt: NOW - 3_000_000, respondBy: null }));
  const html = (await h.app.inject('/status')).body;
  const open = section(html, 'incidents');
  t.match(open, 'Open incidents (1)');
  t.match(open, /<article class="incident sev-S1 st-open" id="incident-3">/);
  t.match(open, /Respond by[\s\S]*?overdue/, 'an S1 past its respond-by time says so');
  t.match(open, /<ol class="timeline">[\s\S]*opened[\s\S]*connection refused by 127\.0\.0\.1:9[\s\S]*symptom/);
  t.match(open, /<details class="evidence">\s*<summary>Evidence \(1\)<\/summary>[\s\S]*compose ps[\s\S]*<pre>backend  exited \(1\)<\/pre>/);
  t.match(open, /2024-05-01 03:07 UTC<\/time> <span class="age">\(5m ago\)<\/span>/, 'UTC time with a relative age');
  t.notMatch(open, 'Export failures', 'a resolved incident is not listed as open');
  const recent = section(html, 'recent');
  t.match(recent, /<a href="\/status\/incidents\/2">#2<\/a> <span class="badge sev-S3">S3<\/span> Export failures/);
  t.match(recent, 'after 10m');
});

t.test('/status: 7 days of uptime per service, summed per UTC day', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  const day = 86_400_000;
  const today = Math.floor(NOW / day) * day;
  const run = (probe: string, service: string, ok: boolean, at: number) => h.store.recordRun({ probe, environment: 'production', service, ok, at });
  for (let i = 0; i < 99; i++) run('backend-health', 'backend', true, today + 60_000 * i);
  run('backend-health', 'backend', false, today + 60_000 * 100);
  run('backend-health', 'backend', true, today - 3 * day + 1_000);
  run('backend-health', 'backend', false, today - 9 * day); // outside the 7 days
  const html = section((await h.app.inject('/status')).body, 'uptime');
  t.match(html, /<th scope="col"><time datetime="2024-04-25">Thu 25 Apr<\/time><\/th>/, 'the first of 7 UTC days');
  t.match(html, /<time datetime="2024-05-01">Wed 1 May<\/time>/, 'today is the last');
  const row = html.slice(html.indexOf('data-service="backend"'), html.indexOf('</tr>', html.indexOf('data-service="backend"')));
  const cells = [...row.matchAll(/<td class="up up-(\w+)[^"]*" title="([^"]*)">([^<]*)<\/td>/g)].map((m) => ({ tone: m[1], title: m[2], text: m[3] }));
  t.equal(cells.length, 8, '7 days and the total');
  t.same(cells.map((c) => c.text), ['–', '–', '–', '100%', '–', '–', '99.00%', '99.00%']);
  t.same(cells.map((c) => c.tone), ['none', 'none', 'none', 'good', 'none', 'none', 'fair', 'fair']);
  t.equal(cells[6]?.title, '2024-05-01: 99 of 100 probe runs passed');
  t.equal(cells[7]?.title, 'last 7 days: 100 of 101 probe runs passed', 'the run 9 days ago is left out');
});

t.test('/status: maintenance windows as configured, one marked active', async (t) => {
  const config = testConfig({
    maintenance: [
      { environment: 'production', service: 'backend', cron: '0 3 * * 0', duration: 30 * 60_000 },
      { environment: 'staging', start: '2024-05-01T03:00:00Z', end: '2024-05-01T04:00:00Z', reason: 'Postgres upgrade <b>' },
      { start: '2024-04-01T00:00:00Z', end: '2024-04-01T01:00:00Z' },
    ],
  });
  const h = harness({ config });
  t.teardown(() => h.close());
  const html = section((await h.app.inject('/status')).body, 'maintenance');
  const items = [...html.matchAll(/<li class="mw mw-(\w+)">([\s\S]*?)<\/li>/g)].map((m) => ({ status: m[1], text: m[2] ?? '' }));
  t.same(items.map((i) => i.status), ['active', 'scheduled', 'past'], 'active first, past last');
  t.match(items[0]?.text, /staging \(every service\)[\s\S]*2024-05-01 03:00 UTC → 2024-05-01 04:00 UTC[\s\S]*Postgres upgrade &lt;b&gt;[\s\S]*until <time datetime="2024-05-01T04:00:00.000Z"/);
  t.match(items[1]?.text, /production \/ backend[\s\S]*cron &quot;0 3 \* \* 0&quot; \(UTC\) for 30m[\s\S]*next <time datetime="2024-05-05T03:00:00.000Z"/, 'the next Sunday 03:00 UTC');
  t.match(items[2]?.text, 'every environment and service');
});

t.test('/status/incidents/:id: the incident with timeline, evidence open, and the review slot; 404s in HTML', async (t) => {
  const h = harness();
  t.teardown(() => h.close());
  h.seed(
    makeIncident({
      id: 5,
      state: 'acknowledged',
      acknowledgedAt: NOW - 60_000,
      acknowledgedBy: 'alice',
      evidence: [{ at: NOW - 4 * 60_000, source: 'docker compose logs', text: 'backend | panic: out of memory' }],
    }),
  );
  const res = await h.app.inject('/status/incidents/5');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  t.match(res.body, /<title>#5 S1 Backend API down · vigil<\/title>/);
  t.match(res.body, /<span class="state-acknowledged">acknowledged<\/span> by alice/);
  t.match(res.body, /<details class="evidence" open>[\s\S]*panic: out of memory/);
  t.match(res.body, /<section id="review" class="review">[\s\S]*<div class="review-text">[\s\S]*<h2>Timeline<\/h2>[\s\S]*<h2>Root cause<\/h2>[\s\S]*<h2>Impact<\/h2>[\s\S]*<h2>Resolution<\/h2>[\s\S]*<h2>Action items<\/h2>/, 'the review draft as HTML sections, all five');
  t.notMatch(res.body, /## Timeline/, 'no raw Markdown');
  t.match(res.body, /<ol class="timeline">\s*<li class="ev ev-[a-z_]+"><time [^>]+>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/time>/, 'timeline times to the second');
  t.match(res.body, /draft/i);
  t.match(res.body, 'http-equiv="refresh"', 'an acknowledged incident still changes, so it refreshes');

  h.seed(makeIncident({ id: 6, state: 'resolved', resolvedAt: NOW - 60_000, openedAt: NOW - 13 * 60_000 - 30_000 }));
  const resolved = (await h.app.inject('/status/incidents/6')).body;
  t.match(resolved, /Resolved<\/dt><dd>[\s\S]*after 12m 30s/);
  t.notMatch(resolved, 'http-equiv="refresh"', 'a resolved incident does not refresh');

  for (const [path, text] of [
    ['/status/incidents/999', 'There is no incident 999.'],
    ['/status/incidents/abc%3Cscript%3E', '&quot;abc&lt;script&gt;&quot; is not an incident number.'],
  ] as const) {
    const missing = await h.app.inject(path);
    t.equal(missing.statusCode, 404, path);
    t.equal(missing.headers['content-type'], 'text/html; charset=utf-8');
    t.match(missing.body, text);
    t.notMatch(missing.body, /<script/i);
  }
});

t.test('/status: a secret echoed by a probe is scrubbed even where HTML escaping changed it', async (t) => {
  const password = 'pa&ss<w0rd>"SECRET';
  const base = testConfig();
  const config = testConfig({
    databases: {
      'prod-db': { name: 'prod-db', environment: 'production', url_env: 'PROD_DB_URL', service: 'db', url: `postgres://vigil:${encodeURIComponent(password)}@10.0.0.2/app` },
    },
    probes: base.probes,
  });
  const h = harness({ config });
  t.teardown(() => h.close());
  h.seed(makeIncident({ id: 1, message: `password authentication failed for ${password}` }));
  const html = (await h.app.inject('/status')).body;
  t.notMatch(html, 'pa&amp;ss&lt;w0rd&gt;&quot;SECRET', 'not even escaped');
  t.notMatch(html, 'w0rd');
  t.match(html, 'password authentication failed for [redacted]');
});
