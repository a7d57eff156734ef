// A burst of requests is handled a few per event-loop turn, so timers (the probe scheduler's) run
// between batches; every request is still answered, in order. The same burst without turns shows what
// the check guards against: dozens of requests answered with no timer in between.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import t from 'tap';
import { takingTurns } from '../../src/server/admission.js';

const BURST = 120;
const PER_TURN = 4;

const GET = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/**
 * `requests` sent at once from another process, each on its own connection, as a crowd of browsers
 * would (a client in this process would connect one socket per turn and never make a burst);
 * resolves with each whole answer, in the order of `requests`.
 */
function crowd(port: number, requests: readonly string[]): Promise<string[]> {
  // Every connection is open before any request is written, so the requests arrive together.
  const script = `
    const { connect } = require('node:net');
    const requests = ${JSON.stringify(requests)};
    const sockets = requests.map(() => connect(${port}, '127.0.0.1'));
    const answers = sockets.map((socket) => new Promise((resolve, reject) => {
      let text = '';
      socket.setEncoding('utf8').on('data', (d) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    }));
    Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('connect', resolve)))).then(() => {
      sockets.forEach((socket, i) => socket.write(requests[i]));
      return Promise.all(answers);
    }).then((texts) => process.stdout.write(JSON.stringify(texts)));`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as string[]))),
  );
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers BURST one-shot requests sent at once; returns the most requests answered between two timer callbacks. */
async function burst(wrap: (h: Handler) => Handler): Promise<{ answered: string[]; mostBetweenTimers: number }> {
  let handled = 0;
  const server = createServer(
    wrap((_req, res) => {
      handled++;
      // Longer than setTimeout's 1 ms: a turn that starts any request leaves the timer due behind it,
      // so between two timer callbacks at most one turn's requests run, whatever the batch sizes.
      const until = performance.now() + 1.1;
      while (performance.now() < until);
      res.end('ok');
    }),
  );
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
  const { port } = server.address() as { port: number };
  let mostBetweenTimers = 0;
  let seen = 0;
  let ticking = true;
  const tick = (): void => {
    mostBetweenTimers = Math.max(mostBetweenTimers, handled - seen);
    seen = handled;
    if (ticking) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const answered = (await crowd(port, Array.from({ length: BURST }, () => GET))).map((text) => text.split('\r\n')[0]!);
  ticking = false;
  tick();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { answered, mostBetweenTimers };
}

const MOST = 2 * PER_TURN; // a turn's own arrivals and the queued ones it starts

t.test('a burst is handled a few requests per turn, and every request is answered', async (t) => {
  const { answered, mostBetweenTimers } = await burst((h) => takingTurns(h, PER_TURN));
  t.equal(answered.length, BURST);
  t.ok(answered.every((line) => line === 'HTTP/1.1 200 OK'), 'every request answered 200');
  t.ok(mostBetweenTimers <= MOST, `at most ${MOST} requests between two timer callbacks (saw ${mostBetweenTimers})`);
});

t.test('without turns the same burst starves timers (what the check above would catch)', async (t) => {
  const { answered, mostBetweenTimers } = await burst((h) => h);
  t.equal(answered.length, BURST);
  t.ok(mostBetweenTimers > MOST, `more than ${MOST} requests between two timer callbacks (saw ${mostBetweenTimers})`);
});

t.test('a request body that waits for its turn arrives whole', async (t) => {
  const server = createServer(
    takingTurns((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(Buffer.concat(chunks)));
    }, 1),
  );
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  t.teardown(() => server.close());
  const bodies = Array.from({ length: 40 }, (_, i) => `body ${i} ${'x'.repeat(i * 97)}`);
  const requests = bodies.map((body) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  const answers = await crowd((server.address() as { port: number }).port, requests);
  t.same(
    answers.map((text) => text.slice(text.indexOf('\r\n\r\n') + 4)),
    bodies,
    'each answer echoes its own body, byte for byte',
  );
});

t.test('requests wait in the order they came', async (t) => {
  const order: number[] = [];
  const handler = takingTurns((req) => void order.push(Number(req.url)), 2);
  for (let i = 0; i < 7; i++) handler({ url: String(i) } as IncomingMessage, {} as ServerResponse);
  t.same(order, [0, 1], 'two start in this turn');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, [0, 1, 2, 3], 'two more in the next');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(order, [0, 1, 2, 3, 4, 5, 6], 'and the rest in the turns after');
});

t.test('perTurn must be a positive integer', async (t) => {
  t.throws(() => takingTurns(() => undefined, 0), RangeError);
  t.throws(() => takingTurns(() => undefined, 1.5), RangeError);
});
