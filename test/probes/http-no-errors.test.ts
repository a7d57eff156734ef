// An http run that gets its answer makes no error and formats no stack trace: a 500, a redirect or a cut body are data, not exceptions.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { httpProbe, type HttpProbe } from '../../src/probes/http.js';
import type { Finding } from '../../src/types.js';
import { createTransports } from '../../src/transport/index.js';
import { testConfig } from '../helpers/config.js';
import { probeFor } from '../helpers/http-probe.js';

const log = pino({ enabled: false });
const transports = createTransports(testConfig(), log);

// The targets run in a child process, so the errors a server makes when a client hangs up early
// (an unread 1 MB body) are not counted against the probe.
const TARGETS = `
const { createServer } = require('node:http');
const big = Buffer.alloc(1024 * 1024, 'x');
const server = createServer((req, res) => {
  if (req.url === '/ok') { res.setHeader('content-type', 'application/json'); return res.end('{"status":"ok"}'); }
  if (req.url === '/error') { res.statusCode = 500; return res.end('{"status":"down"}'); }
  if (req.url === '/moved') { res.statusCode = 301; res.setHeader('location', '/ok'); return res.end('moved'); }
  if (req.url === '/big') return res.end(big);
  res.statusCode = 404; res.end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)).resume();
`;

const child = spawn(process.execPath, ['-e', TARGETS], { stdio: ['pipe', 'pipe', 'inherit'] });
t.teardown(() => child.stdin.end());
const [first] = (await once(child.stdout, 'data')) as [Buffer];
const base = `http://127.0.0.1:${first.toString().trim()}`;

/**
 * Runs the probe `times` times, counting errors made on the way (every error class that names
 * itself, as undici's all do, sets `name` in its constructor) and stack traces formatted.
 */
async function counting(probe: HttpProbe, times: number): Promise<{ main: Finding; named: string[]; stacks: number }> {
  const named: string[] = [];
  let stacks = 0;
  const nameDescriptor = Object.getOwnPropertyDescriptor(Error.prototype, 'name')!;
  const prepare = Error.prepareStackTrace;
  Object.defineProperty(Error.prototype, 'name', {
    configurable: true,
    get: () => 'Error',
    set(this: Error, value: string) {
      named.push(value);
      Object.defineProperty(this, 'name', { value, writable: true, configurable: true, enumerable: false });
    },
  });
  Error.prepareStackTrace = (err, frames) => {
    stacks += 1;
    return `${String(err)}\n${frames.map((f) => `    at ${String(f)}`).join('\n')}`;
  };
  let main: Finding | undefined;
  try {
    for (let i = 0; i < times; i += 1) {
      const findings = await httpProbe(probe, { signal: new AbortController().signal, log, now: Date.now, transports });
      main = findings.find((f) => f.key === probe.id);
    }
  } finally {
    Object.defineProperty(Error.prototype, 'name', nameDescriptor);
    Error.prepareStackTrace = prepare;
  }
  return { main: main!, named, stacks };
}

function madeNoError(t: Test, r: { named: string[]; stacks: number }): void {
  t.same(r.named, [], 'no error was made');
  t.equal(r.stacks, 0, 'no stack trace was formatted');
}

t.test('a passing run', async (t) => {
  const r = await counting(probeFor({ url: `${base}/ok`, expect: { json: { status: 'ok' } } }, { timeoutMs: 5_000 }), 20);
  t.equal(r.main.ok, true);
  madeNoError(t, r);
});

t.test('a 500 is a failing finding, not an exception', async (t) => {
  const r = await counting(probeFor({ url: `${base}/error` }, { timeoutMs: 5_000 }), 20);
  t.match(r.main, { ok: false, message: /500/ });
  madeNoError(t, r);
});

t.test('a redirect followed to its answer', async (t) => {
  const r = await counting(probeFor({ url: `${base}/moved`, expect: { json: { status: 'ok' } } }, { timeoutMs: 5_000 }), 20);
  t.equal(r.main.ok, true);
  madeNoError(t, r);
});

t.test('a body cut at the read limit', async (t) => {
  const r = await counting(probeFor({ url: `${base}/big`, expect: { body_contains: 'needle' } }, { timeoutMs: 5_000 }), 5);
  t.match(r.main, { ok: false, message: /first 64 KiB/ });
  madeNoError(t, r);
});
