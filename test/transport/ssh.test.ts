// SshTransport against an in-process ssh2 server: pinning, reuse, failures as host findings, bounded commands, tunnels.
import { once } from 'node:events';
import { type Socket, connect, createServer } from 'node:net';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { ResolvedHost } from '../../src/config/types.js';
import { CHANNELS_PER_HOST, MAX_STDOUT_BYTES, SshError, SshTransport } from '../../src/transport/ssh.js';
import { unusedPort } from '../helpers/http-servers.js';
import { generateKey, hostFor, startSshServer } from '../helpers/ssh-server.js';
import { startFreezableProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/vigil-process.js';

const log = pino({ enabled: false });
const CMD = `cd '/srv/app' && 'docker' compose ps --all --format json`;

function transportFor(t: Test, hosts: ResolvedHost[], logger = log): SshTransport {
  const ssh = new SshTransport(Object.fromEntries(hosts.map((h) => [h.name, h])), logger);
  t.teardown(() => ssh.close());
  return ssh;
}

async function run(ssh: SshTransport, command = CMD, timeoutMs = 5_000, host = 'app-1') {
  return ssh.exec(host, command, { timeoutMs, signal: new AbortController().signal });
}

async function failure(work: Promise<unknown>): Promise<SshError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof SshError) return err;
    throw err;
  }
  throw new Error('expected an SshError');
}

/** A TCP server that accepts connections and does something else than speak SSH. */
async function rawServer(t: Test, onSocket: (s: Socket) => void): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    accepted += 1;
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, accepted: () => accepted };
}

t.test('runs commands over one reused connection and returns stdout, stderr and exit code', async (t) => {
  const fake = await startSshServer(t);
  const ssh = transportFor(t, [hostFor(fake)]);
  fake.reply = (cmd) => (cmd === 'fail' ? { stdout: 'partial', stderr: 'boom\n', code: 3 } : undefined);
  const first = await run(ssh);
  t.match(first, { code: 0, signal: null, timedOut: false, truncated: false });
  t.match(first.stdout, /"Service":"backend"/);
  const second = await run(ssh, 'fail');
  t.match(second, { stdout: 'partial', stderr: 'boom\n', code: 3 });
  await Promise.all([run(ssh), run(ssh), run(ssh)]);
  t.equal(fake.stats.connections, 1, 'every command used the same connection');
  t.same(fake.commands.slice(0, 2), [CMD, 'fail']);
  t.same(ssh.hostFinding('app-1', null), { key: 'host:app-1', ok: true, message: `app-1 reachable over SSH (127.0.0.1:${fake.port})` });
});

t.test('pins the host key: a different key is a possible interception and nothing runs', async (t) => {
  const fake = await startSshServer(t);
  const other = generateKey();
  const otherLine = other.public.split(' ').slice(0, 2).join(' ');
  const ssh = transportFor(t, [hostFor(fake, { host_key: otherLine })]);
  const err = await failure(run(ssh));
  t.equal(err.kind, 'host_key_mismatch');
  t.equal(err.code, 'VIGIL_ERR_SSH_HOST_KEY_MISMATCH');
  t.match(err.message, /possible interception \(man-in-the-middle\)/);
  t.match(err.message, `presented ${fake.fingerprint} (ssh-ed25519)`);
  t.match(err.message, /Expected SHA256:[A-Za-z0-9+/]{43} \(ssh-ed25519\)/);
  t.equal(fake.stats.authAttempts, 0, 'vigil never authenticated to the impostor');
  t.equal(fake.stats.execs, 0);
  const finding = ssh.hostFinding('app-1', err);
  t.match(finding, { key: 'host:app-1', ok: false, severity: 'S2' });
});

t.test('a host_key_sha256 pin accepts the right key and refuses another', async (t) => {
  const fake = await startSshServer(t);
  const good = transportFor(t, [hostFor(fake, { host_key: undefined, host_key_sha256: fake.fingerprint })]);
  t.equal((await run(good)).code, 0);
  const wrong = transportFor(t, [hostFor(fake, { host_key: undefined, host_key_sha256: `SHA256:${'A'.repeat(43)}` })]);
  const err = await failure(run(wrong));
  t.equal(err.kind, 'host_key_mismatch');
  t.match(err.message, `Expected SHA256:${'A'.repeat(43)}, presented ${fake.fingerprint}`);
});

t.test('a host without a pin is refused before any connection', async (t) => {
  const fake = await startSshServer(t);
  const ssh = transportFor(t, [hostFor(fake, { host_key: undefined })]);
  const err = await failure(run(ssh));
  t.equal(err.kind, 'not_pinned');
  t.equal(err.code, 'VIGIL_ERR_SSH_NOT_PINNED', 'not taken for an interception');
  t.match(err.message, /^SSH host key of app-1 \(vigil@127\.0\.0\.1:\d+\) is not pinned \(host app-1 has no pinned host key/);
  t.match(err.message, /get the key from a trusted network with: ssh-keyscan -p \d+ -t ed25519 127\.0\.0\.1 \| ssh-keygen -lf -$/);
  t.notMatch(err.message, /interception/);
  t.equal(fake.stats.connections, 0);
  t.match(ssh.hostFinding('app-1', err), { key: 'host:app-1', ok: false, code: 'VIGIL_ERR_SSH_NOT_PINNED' });
});

t.test('rejected authentication, refused and silent hosts are host failures in their own words', async (t) => {
  const fake = await startSshServer(t, { acceptKey: generateKey().public });
  const rejected = transportFor(t, [hostFor(fake)]);
  const auth = await failure(run(rejected));
  t.equal(auth.kind, 'auth');
  t.match(auth.message, /authentication rejected .*user "vigil"/);

  const closedPort = await unusedPort();
  const refused = await failure(run(transportFor(t, [hostFor(fake, { port: closedPort })])));
  t.equal(refused.kind, 'refused');
  t.match(refused.message, `app-1 (vigil@127.0.0.1:${closedPort}): connection refused`);

  const silent = await rawServer(t, () => undefined);
  const started = Date.now();
  const timeout = await failure(run(transportFor(t, [hostFor(fake, { port: silent.port })]), CMD, 400));
  t.equal(timeout.kind, 'timeout');
  t.match(timeout.message, /no SSH handshake within 400ms/);
  t.ok(Date.now() - started < 5_000, 'the handshake timeout bounds the wait');
});

t.test('after a failed attempt the next ones wait for the backoff instead of hammering the host', async (t) => {
  const slam = await rawServer(t, (s) => s.destroy());
  const fake = await startSshServer(t);
  const ssh = transportFor(t, [hostFor(fake, { port: slam.port })]);
  const first = await failure(run(ssh));
  const second = await failure(run(ssh));
  t.equal(second, first, 'the same failure, reported again at once');
  t.equal(slam.accepted(), 1, 'no second connection attempt inside the backoff');
});

t.test('private keys: a passphrase opens an encrypted key; a wrong one is reported without the secret', async (t) => {
  const secret = 'correct horse battery staple';
  const key = generateKey(secret);
  const fake = await startSshServer(t, { acceptKey: key.public });
  const good = transportFor(t, [hostFor(fake, { privateKey: key.private, passphrase: secret })]);
  t.equal((await run(good)).code, 0);
  const wrong = transportFor(t, [hostFor(fake, { privateKey: key.private, passphrase: 'wrong passphrase' })]);
  const err = await failure(run(wrong));
  t.equal(err.kind, 'auth');
  t.match(err.message, /private_key_env VIGIL_TEST_SSH_KEY\) is encrypted and the passphrase does not open it/);
  t.notMatch(err.message, /wrong passphrase|PRIVATE KEY/);
  const none = await failure(run(transportFor(t, [hostFor(fake, { privateKey: key.private, passphrase: null })])));
  t.match(none.message, /no passphrase_env is set/);
});

t.test('a command that hangs is cut at the timeout and its channel closed', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = () => ({ stdout: 'started\n', hang: true });
  const ssh = transportFor(t, [hostFor(fake)]);
  const result = await run(ssh, 'sleep forever', 300);
  t.match(result, { timedOut: true, code: null, stdout: 'started\n' });
  t.ok(result.durationMs < 5_000);
  await waitFor(() => fake.stats.closedByClient > 0, 20_000, () => 'the server never saw the channel closed');
  t.equal(fake.stats.closedByClient, 1, 'the server saw the channel closed');
  fake.reply = () => undefined;
  t.equal((await run(ssh)).code, 0, 'the connection is still good afterwards');
});

t.test('a host that stops answering mid-command is the host failing, not a hung command', async (t) => {
  const fake = await startSshServer(t);
  const proxy = await startFreezableProxy(t, fake.port);
  const ssh = transportFor(t, [hostFor(fake, { port: proxy.port })]);
  t.equal((await run(ssh)).code, 0, 'the host answers at first');
  fake.reply = () => ({ stdout: 'started\n', hang: true });
  const running = run(ssh, 'docker compose ps', 800);
  await waitFor(() => fake.stats.running > 0, 20_000, () => 'the command never started');
  proxy.freeze();
  const err = await failure(running);
  t.equal(err.kind, 'timeout');
  t.match(err.message, /^SSH to app-1 \(vigil@127\.0\.0\.1:\d+\): the host stopped answering while running a command/);
  // The dead connection is dropped: the next call tries a new one rather than waiting on it again.
  const again = await failure(run(ssh, CMD, 500));
  t.equal(again.kind, 'timeout');
  t.equal(proxy.connections(), 2, 'a new connection was attempted');
});

t.test('exit 127, a signal and 5 MB of output', async (t) => {
  const fake = await startSshServer(t);
  const ssh = transportFor(t, [hostFor(fake, { docker: 'nodocker' })]);
  fake.reply = (cmd) => (cmd === 'killed' ? { signal: 'KILL' } : cmd === 'flood' ? { floodBytes: 5 * 1024 * 1024 } : undefined);
  const missing = await run(ssh, `cd '/srv' && 'nodocker' compose ps --all --format json`);
  t.match(missing, { code: 127, stderr: /nodocker: not found/ });
  t.match(await run(ssh, 'killed'), { code: null, signal: 'SIGKILL' });
  const flood = await run(ssh, 'flood');
  t.equal(flood.truncated, true);
  t.equal(flood.stdout.length, MAX_STDOUT_BYTES, 'stdout is capped at 1 MiB');
  t.equal((await run(ssh, 'killed')).signal, 'SIGKILL', 'the connection survives the flood');
});

t.test('a disconnect mid-command is a lost host connection, and the next command reconnects', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = (cmd) => (cmd === 'drop' ? { stdout: '{"Service":', disconnect: true } : undefined);
  const ssh = transportFor(t, [hostFor(fake)]);
  const err = await failure(run(ssh, 'drop'));
  t.equal(err.kind, 'closed');
  t.match(err.message, /was lost while running a command/);
  t.equal((await run(ssh)).code, 0);
  t.equal(fake.stats.connections, 2);
});

t.test(`at most ${CHANNELS_PER_HOST} commands run on a host at once`, async (t) => {
  const fake = await startSshServer(t);
  // Each command takes a while and then exits: the cap is seen without any timeout racing it.
  fake.reply = (cmd) => (cmd === 'slow' ? { delayMs: 300, stdout: 'done' } : undefined);
  const ssh = transportFor(t, [hostFor(fake)]);
  const results = await Promise.all(Array.from({ length: CHANNELS_PER_HOST + 3 }, () => run(ssh, 'slow', 60_000)));
  t.equal(fake.stats.maxRunning, CHANNELS_PER_HOST);
  t.same(results.map((r) => [r.code, r.stdout, r.timedOut]), Array.from({ length: CHANNELS_PER_HOST + 3 }, () => [0, 'done', false]), 'every command ran to its end, the later ones once a channel was free');
  t.equal(fake.stats.connections, 1, 'callers arriving together share one handshake');
});

t.test('the caller\'s signal stops a handshake wait and a running command', async (t) => {
  const silent = await rawServer(t, () => undefined);
  const fake = await startSshServer(t);
  const stuck = transportFor(t, [hostFor(fake, { port: silent.port })]);
  const handshake = failure(stuck.exec('app-1', CMD, { timeoutMs: 30_000, signal: AbortSignal.timeout(200) }));
  t.match(await handshake, { kind: 'timeout', message: /no connection within the probe's timeout/ });

  fake.reply = () => ({ hang: true });
  const ssh = transportFor(t, [hostFor(fake)]);
  const result = await ssh.exec('app-1', 'hang', { timeoutMs: 30_000, signal: AbortSignal.timeout(300) });
  t.match(result, { timedOut: true, code: null });
  t.ok(result.durationMs < 10_000);
});

t.test('update() drops only hosts that changed or went away; close() ends the rest', async (t) => {
  const fake = await startSshServer(t);
  const a = hostFor(fake);
  const b = hostFor(fake, { name: 'app-2' });
  const ssh = new SshTransport({ 'app-1': a, 'app-2': b }, log);
  t.teardown(() => ssh.close());
  await run(ssh, CMD, 5_000, 'app-1');
  await run(ssh, CMD, 5_000, 'app-2');
  t.equal(fake.stats.connections, 2);
  ssh.update({ 'app-1': { ...a }, 'app-2': { ...b, compose_dir: '/elsewhere' } });
  await run(ssh, CMD, 5_000, 'app-1');
  await run(ssh, CMD, 5_000, 'app-2');
  t.equal(fake.stats.connections, 3, 'only the changed host reconnected');
  ssh.update({ 'app-1': a });
  const gone = await failure(run(ssh, CMD, 5_000, 'app-2'));
  t.equal(gone.kind, 'unavailable');
  await ssh.close();
});

t.test('tunnel: a local port forwarded through the host, re-created after a reconnect', async (t) => {
  const echo = await rawServer(t, (s) => s.pipe(s));
  const fake = await startSshServer(t);
  const messages: string[] = [];
  const ssh = transportFor(t, [hostFor(fake)], pino({ level: 'info' }, { write: (l: string) => void messages.push(JSON.parse(l).msg) }));
  /** Drops the host's connections and waits until the transport has noticed (however long a busy machine takes). */
  const dropAndNotice = async () => {
    const closed = messages.filter((m) => m === 'ssh connection closed').length;
    fake.dropConnections();
    await waitFor(() => messages.filter((m) => m === 'ssh connection closed').length > closed, 20_000, () => 'the dropped connection went unnoticed');
  };
  const signal = new AbortController().signal;
  const first = await ssh.tunnel('app-1', '127.0.0.1', echo.port, signal);
  t.equal(first.host, '127.0.0.1');
  t.same(await ssh.tunnel('app-1', '127.0.0.1', echo.port, signal), first, 'one listener per destination');
  t.equal(await roundTrip(first.port, 'ping'), 'ping');
  t.equal(fake.stats.forwards, 1);

  await dropAndNotice();
  const again = await ssh.tunnel('app-1', '127.0.0.1', echo.port, signal);
  t.equal(await roundTrip(again.port, 'pong'), 'pong');
  t.equal(fake.stats.connections, 2);

  // Nothing listening at the destination is the destination's failure, not the host's.
  const closedPort = await unusedPort();
  const nowhere = await ssh.tunnel('app-1', '127.0.0.1', closedPort, signal);
  // Closed without an answer: not echoed, and not left hanging ("no answer").
  t.match(await roundTrip(nowhere.port, 'x').catch((err: Error) => err.message), /^(closed|.*ECONNRESET.*|.*EPIPE.*)$/, 'the local connection is closed');
  t.equal(ssh.tunnelError('app-1', '127.0.0.1', closedPort), null);

  fake.allowForwarding = false;
  await dropAndNotice();
  const prohibited = await ssh.tunnel('app-1', '127.0.0.1', echo.port, signal);
  const refused = await roundTrip(prohibited.port, 'x').catch((err: Error) => err.message);
  t.match(refused, /^(closed|.*ECONNRESET.*|.*EPIPE.*)$/, 'a refused forward closes the local connection');
  t.match(ssh.tunnelError('app-1', '127.0.0.1', echo.port), { kind: 'unavailable', message: /tunnel through app-1 to 127\.0\.0\.1:\d+ refused by the server/ });
});

t.test('tunnel to an unreachable host throws the host failure', async (t) => {
  const fake = await startSshServer(t);
  const ssh = transportFor(t, [hostFor(fake, { port: await unusedPort() })]);
  const err = await failure(ssh.tunnel('app-1', '127.0.0.1', 5432, new AbortController().signal));
  t.equal(err.kind, 'refused');
});

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, 5_000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        socket.end();
        resolve(got);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (got.length < text.length) reject(new Error('closed'));
    });
    socket.write(text);
  });
}

