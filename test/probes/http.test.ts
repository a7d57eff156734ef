// The http probe against real misbehaving servers on 127.0.0.1: every failure is a finding in an operator's words.
import { pino } from 'pino';
import type { TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { createHttpProbe, httpProbe, type HttpProbe } from '../../src/probes/http.js';
import type { Finding } from '../../src/types.js';
import { createTransports } from '../../src/transport/index.js';
import { testConfig } from '../helpers/config.js';
import { makeTestCerts } from '../helpers/certs.js';
import { probeFor } from '../helpers/http-probe.js';
import {
  type Handler,
  delayed,
  echoRequestHeaders,
  floodBody,
  hangBeforeHeaders,
  json,
  redirectTo,
  respond,
  routes,
  startHttpServer,
  startSilentServer,
  trickleBody,
  unusedPort,
} from '../helpers/http-servers.js';

const log = pino({ enabled: false });
// The http probe uses no shared transport; an empty set stands in for the daemon's.
const transports = createTransports(testConfig(), log);
const certs = await makeTestCerts();
const trustingTestCa = createHttpProbe({ ca: [certs.ca.cert] });

async function run(probe: HttpProbe, opts: { signal?: AbortSignal; fn?: typeof httpProbe } = {}): Promise<{ findings: Finding[]; main: Finding; ms: number }> {
  const started = Date.now();
  const findings = await (opts.fn ?? httpProbe)(probe, { signal: opts.signal ?? new AbortController().signal, log, now: Date.now, transports });
  const main = findings.find((f) => f.key === probe.id);
  if (!main) throw new Error('no main finding');
  return { findings, main, ms: Date.now() - started };
}

async function serve(t: Test, handler: Handler, tls?: { key: string; cert: string }) {
  const server = await startHttpServer(handler, tls);
  t.teardown(() => server.close());
  return server;
}

/** Counts requests that reached the handler: proves a rejected certificate stopped the request. */
function counted(handler: Handler): { handler: Handler; count: () => number } {
  let n = 0;
  return { handler: (req, res) => (n++, handler(req, res)), count: () => n };
}

t.test('200 with the expected body: ok', async (t) => {
  const server = await serve(t, respond(200, '{"status":"ok"}'));
  const { findings, main } = await run(probeFor({ url: `${server.url}/health`, expect: { body_contains: 'ok' } }));
  t.equal(main.ok, true);
  t.match(main.message, /^HTTP 200 OK in \d/);
  t.equal(main.values?.status, 200);
  t.type(main.values?.latency_seconds, 'number');
  t.equal(main.evidence, undefined, 'no evidence needed for a pass');
  t.equal(findings.length, 1, 'no latency or tls finding for plain http without max_latency');
});

t.test('nothing listening: connection refused', async (t) => {
  const port = await unusedPort();
  const { main } = await run(probeFor({ url: `http://127.0.0.1:${port}/` }));
  t.equal(main.ok, false);
  t.equal(main.message, `connection refused by 127.0.0.1:${port}`);
});

t.test('a name under .invalid: DNS failure (or, on a resolver that hangs, a connect timeout)', async (t) => {
  const { main } = await run(probeFor({ url: 'http://vigil-test.invalid/health' }, { timeoutMs: 5_000 }));
  t.equal(main.ok, false);
  t.match(main.message, /^(DNS lookup failed for vigil-test\.invalid \([A-Z_]+\)|timed out after 5s connecting to vigil-test\.invalid:80)$/);
});

t.test('server hangs before headers: timeout names the TTFB phase and the probe stops by itself', async (t) => {
  const server = await serve(t, hangBeforeHeaders);
  const { main, ms } = await run(probeFor({ url: server.url }, { timeoutMs: 500 }));
  t.equal(main.ok, false);
  t.equal(main.message, 'timed out after 500ms waiting for response headers');
  t.ok(ms < 500 + 3_000, `returned in ${ms}ms`);
});

t.test('server trickles a body that never ends: timeout names the body phase, evidence shows what came', async (t) => {
  const server = await serve(t, trickleBody(50));
  const { main, ms } = await run(probeFor({ url: server.url }, { timeoutMs: 700 }));
  t.equal(main.message, 'timed out after 700ms reading the body');
  t.equal(main.values?.status, 200);
  t.match(main.evidence, /^HTTP 200 OK\ncontent-type: text\/plain\n\n\.+/);
  t.ok(ms < 700 + 3_000, `returned in ${ms}ms`);
});

t.test('TLS handshake never completes: timeout names the handshake', async (t) => {
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const { main, ms } = await run(probeFor({ url: `https://127.0.0.1:${silent.port}/` }, { timeoutMs: 500 }));
  t.equal(main.message, `timed out after 500ms in the TLS handshake with 127.0.0.1:${silent.port}`);
  t.ok(ms < 500 + 3_000, `returned in ${ms}ms`);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const aborted = await run(probeFor({ url: `https://127.0.0.1:${silent.port}/` }, { timeoutMs: 60_000 }), { signal: controller.signal });
  t.match(aborted.main.message, /^timed out after \d+ms in the TLS handshake/);
  t.ok(aborted.ms < 3_000, `an abort mid-handshake returned in ${aborted.ms}ms`);
});

t.test('a 10 MB body is cut at 64 KiB, never buffered whole', async (t) => {
  const flood = floodBody(10 * 1024 * 1024);
  const server = await serve(t, flood.handler);
  const { main, ms } = await run(probeFor({ url: server.url, expect: { body_contains: 'needle' } }, { timeoutMs: 10_000 }));
  t.equal(main.message, 'body does not contain "needle" (in its first 64 KiB)');
  t.ok(ms < 5_000, `returned in ${ms}ms`);
  await flood.stats.closed;
  t.equal(flood.stats.finished, false, 'the client hung up before the server could send everything');
  t.ok(flood.stats.sent < 10 * 1024 * 1024, `server got rid of ${flood.stats.sent} bytes before the client hung up`);
  t.ok((main.evidence ?? '').length < 1_000, 'evidence is a short excerpt');
});

t.test('redirects', async (t) => {
  const server = await serve(
    t,
    routes({
      '/old': redirectTo('/new', 301),
      '/new': respond(200, 'ok'),
      '/a': redirectTo('/b'),
      '/b': redirectTo('/a'),
      '/r1': redirectTo('/r2'),
      '/r2': redirectTo('/r3'),
      '/r3': redirectTo('/r4'),
      '/r4': redirectTo('/r5'),
      '/r5': respond(200, 'ok'),
    }),
  );

  t.test('a relative redirect is followed', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/old`, expect: { body_contains: 'ok' } }));
    t.equal(main.ok, true, main.message);
    t.equal(main.values?.status, 200);
  });

  t.test('a loop is named as one', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/a` }));
    t.equal(main.ok, false);
    t.equal(main.message, `redirect loop: ${server.url}/a → ${server.url}/b → ${server.url}/a`);
    t.match(main.evidence, /^HTTP 302 Found\n(.*\n)*location: /);
  });

  t.test('more than follow_redirects hops is too many', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/r1` }));
    t.equal(main.message, `too many redirects (more than 3): ${['r1', 'r2', 'r3', 'r4', 'r5'].map((p) => `${server.url}/${p}`).join(' → ')}`);
    const four = await run(probeFor({ url: `${server.url}/r1`, follow_redirects: 4 }));
    t.equal(four.main.ok, true, 'four hops are fine when four are allowed');
  });

  t.test('follow_redirects: 0 judges the redirect itself', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/old`, follow_redirects: 0 }));
    t.equal(main.message, 'HTTP 301 Moved Permanently (expected 200–299)');
    t.match(main.evidence, `location: ${server.url}/new`);
  });
});

t.test('every run and every redirect hop opens a connection of its own, even to a keep-alive server', async (t) => {
  // What each request arrived on: a socket seen twice would be a reused connection.
  const sockets: object[] = [];
  const resumed: boolean[] = [];
  const handler = (tls: boolean): Handler =>
    routes({
      '/hop': redirectTo('/ok'),
      '/ok': (req, res) => {
        if (tls) resumed.push((req.socket as TLSSocket).isSessionReused());
        respond(200, 'ok')(req, res);
      },
    });
  const track =
    (inner: Handler): Handler =>
    (req, res) => {
      sockets.push(req.socket);
      res.shouldKeepAlive = true;
      inner(req, res);
    };
  const plain = await serve(t, track(handler(false)));
  const secure = await serve(t, track(handler(true)), certs.valid);
  for (const url of [`${plain.url}/ok`, `${plain.url}/hop`, `${plain.url}/ok`, `${secure.url}/hop`, `${secure.url}/ok`]) {
    const { main } = await run(probeFor({ url, expect: { body_contains: 'ok' } }), { fn: trustingTestCa });
    t.equal(main.ok, true, main.message);
  }
  t.equal(sockets.length, 7, 'five runs, two of them through a redirect');
  t.equal(new Set(sockets).size, sockets.length, 'no request went over a connection an earlier one used');
  t.same(resumed, [false, false], 'no TLS session was resumed: every run handshakes in full');
});

t.test('a 303 after a POST continues as a GET', async (t) => {
  const methods: string[] = [];
  const server = await serve(t, (req, res) => {
    methods.push(`${req.method} ${req.url}`);
    (req.url === '/submit' ? redirectTo('/done', 303) : respond(200, 'done'))(req, res);
  });
  const { main } = await run(probeFor({ url: `${server.url}/submit`, method: 'POST', body: '{}' }));
  t.equal(main.ok, true, main.message);
  t.same(methods, ['POST /submit', 'GET /done']);
});

t.test('status, body and JSON expectations', async (t) => {
  const server = await serve(
    t,
    routes({
      '/500': respond(500, 'database is down\u001b[31m!\u0007'),
      '/204': respond(204),
      '/degraded': json({ status: 'degraded', checks: { db: true } }),
      '/html': respond(200, '<html>maintenance</html>'),
    }),
  );

  t.test('500 against the default 200–299', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/500` }));
    t.equal(main.message, 'HTTP 500 Internal Server Error (expected 200–299)');
    t.equal(main.values?.status, 500);
    t.equal(main.evidence, 'HTTP 500 Internal Server Error\ncontent-type: text/plain\n\ndatabase is down!', 'control characters stripped');
  });

  t.test('an explicit status list', async (t) => {
    t.equal((await run(probeFor({ url: `${server.url}/204`, expect: { status: [204] } }))).main.ok, true);
    const { main } = await run(probeFor({ url: `${server.url}/html`, expect: { status: [201, 202, 204] } }));
    t.equal(main.message, 'HTTP 200 OK (expected 201, 202 or 204)');
  });

  t.test('body_contains', async (t) => {
    const { main } = await run(probeFor({ url: `${server.url}/html`, expect: { body_contains: 'ok' } }));
    t.equal(main.message, 'body does not contain "ok"');
    t.match(main.evidence, /<html>maintenance<\/html>$/);
  });

  t.test('json subset', async (t) => {
    const bad = await run(probeFor({ url: `${server.url}/degraded`, expect: { json: { status: 'ok' } } }));
    t.equal(bad.main.message, 'JSON body does not match: $.status is "degraded", expected "ok"');
    const good = await run(probeFor({ url: `${server.url}/degraded`, expect: { json: { checks: { db: true } } } }));
    t.equal(good.main.ok, true, good.main.message);
    const notJson = await run(probeFor({ url: `${server.url}/html`, expect: { json: { status: 'ok' } } }));
    t.equal(notJson.main.message, 'JSON body does not match: the body is not valid JSON');
  });
});

t.test('max_latency: a slow answer is an S4 finding of its own', async (t) => {
  const server = await serve(t, delayed(300, respond(200, 'ok')));
  const slow = await run(probeFor({ url: server.url, expect: { max_latency: '100ms' } }));
  t.equal(slow.main.ok, true, 'the main finding still passes');
  const latency = slow.findings.find((f) => f.key === 'api-health:latency');
  t.equal(latency?.ok, false);
  t.equal(latency?.severity, 'S4');
  t.match(latency?.message, /^slow: answered in \d+ms \(limit 100ms\)$/);
  const fine = await run(probeFor({ url: server.url, expect: { max_latency: '5s' } }));
  t.equal(fine.findings.find((f) => f.key === 'api-health:latency')?.ok, true);
});

t.test('ctx.signal aborts the run promptly, naming the phase', async (t) => {
  const server = await serve(t, hangBeforeHeaders);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const { main, ms } = await run(probeFor({ url: server.url }, { timeoutMs: 60_000 }), { signal: controller.signal });
  t.equal(main.ok, false);
  t.match(main.message, /^timed out after \d+ms waiting for response headers$/);
  t.ok(ms < 3_000, `returned in ${ms}ms`);
});

t.test('TLS', async (t) => {
  t.test('self-signed: TLS error, and no request is sent', async (t) => {
    const target = counted(respond(200, 'ok'));
    const server = await serve(t, target.handler, certs.selfSigned);
    const { main, findings } = await run(probeFor({ url: server.url }));
    t.equal(main.message, 'TLS error: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    t.equal(target.count(), 0);
    t.equal(findings.find((f) => f.key === 'api-health:tls')?.ok, true, 'its expiry is still reported: a year away');
  });

  t.test('expired: says so, and the expiry finding is S3', async (t) => {
    const target = counted(respond(200, 'ok'));
    const server = await serve(t, target.handler, certs.expired);
    const { main, findings } = await run(probeFor({ url: server.url }), { fn: trustingTestCa });
    t.equal(main.message, 'TLS error: certificate has expired (CERT_HAS_EXPIRED)');
    t.equal(target.count(), 0);
    const tls = findings.find((f) => f.key === 'api-health:tls');
    t.equal(tls?.severity, 'S3');
    t.match(tls?.message, /^TLS certificate for 127\.0\.0\.1 expired 1 day ago \(\d{4}-\d\d-\d\d\)$/);
  });

  t.test('hostname mismatch', async (t) => {
    const target = counted(respond(200, 'ok'));
    const server = await serve(t, target.handler, certs.wrongHost);
    const { main } = await run(probeFor({ url: server.url }), { fn: trustingTestCa });
    t.equal(main.message, 'TLS error: hostname does not match the certificate (ERR_TLS_CERT_ALTNAME_INVALID)');
    t.match(main.evidence, /^certificate presented by 127\.0\.0\.1:\n  subject: CN=other\.example\n  issuer: CN=vigil test CA\n  names: DNS:other\.example\n  valid: \d{4}-/);
    t.equal(target.count(), 0);
  });

  t.test('a trusted certificate far from expiry', async (t) => {
    const server = await serve(t, respond(200, 'ok'), certs.valid);
    const { main, findings } = await run(probeFor({ url: server.url }), { fn: trustingTestCa });
    t.equal(main.ok, true, main.message);
    const tls = findings.find((f) => f.key === 'api-health:tls');
    t.equal(tls?.ok, true);
    t.match(tls?.message, /^TLS certificate for 127\.0\.0\.1 expires in 36[45] days/);
    const without = await run(probeFor({ url: server.url, tls_expiry: false }), { fn: trustingTestCa });
    t.equal(without.findings.length, 1, 'tls_expiry: false drops the expiry finding');
  });

  t.test('expiring in 3 days: S3; in 15 days: S4', async (t) => {
    const soon = await serve(t, respond(200, 'ok'), certs.expiresIn3Days);
    const later = await serve(t, respond(200, 'ok'), certs.expiresIn15Days);
    const a = await run(probeFor({ url: soon.url }), { fn: trustingTestCa });
    const b = await run(probeFor({ url: later.url }), { fn: trustingTestCa });
    t.equal(a.main.ok, true);
    const tlsA = a.findings.find((f) => f.key === 'api-health:tls');
    const tlsB = b.findings.find((f) => f.key === 'api-health:tls');
    t.match(tlsA, { ok: false, severity: 'S3', message: /expires in 3 days/ });
    t.match(tlsB, { ok: false, severity: 'S4', message: /expires in 15 days/ });
    t.ok(Math.abs((tlsA?.values?.tls_expiry_seconds ?? 0) - 3 * 86_400) < 120);
  });
});

t.test('no request header value or URL password appears in any finding', async (t) => {
  const secrets = ['Bearer s3cr3t-token-value', 'key-0123456789', 'hunter2pass'];
  const other = await serve(t, echoRequestHeaders);
  const server = await serve(
    t,
    routes({ '/echo': echoRequestHeaders, '/away': redirectTo(`${other.url}/echo`), '/loop': redirectTo('/loop') }),
  );
  const base = server.url.replace('http://', 'http://admin:hunter2pass@');
  const headers = { authorization: secrets[0]!, 'x-api-key': secrets[1]! };
  const echoed = await run(probeFor({ url: `${base}/echo` }, { headers }));
  t.match(echoed.main.evidence, /\[redacted\]/, 'the server did echo them back');
  const crossOrigin = await run(probeFor({ url: `${base}/away` }, { headers }));
  t.notMatch(crossOrigin.main.evidence, /redacted/, 'configured headers are not sent to another origin');
  const loop = await run(probeFor({ url: `${base}/loop` }, { headers }));
  t.match(loop.main.message, /^redirect loop: http:\/\/127/);
  for (const findings of [echoed.findings, crossOrigin.findings, loop.findings]) {
    const text = JSON.stringify(findings);
    for (const secret of [...secrets, 's3cr3t-token-value', Buffer.from('admin:hunter2pass').toString('base64')]) {
      t.notOk(text.includes(secret), `no ${secret.slice(0, 4)}… in findings`);
    }
  }
});
