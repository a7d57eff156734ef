// The demo's VM: an in-process ssh2 Server on 127.0.0.1 that plays `docker compose ps/logs` and forwards to the demo's PostgreSQL.
import { connect as tcpConnect } from 'node:net';
import { parse as parseShell } from 'shell-quote';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import { fingerprintOf } from '../transport/ssh-hostkey.js';
import { DemoError } from './errors.js';

export const COMPOSE_PROJECT = 'shootify-deploy';

export interface ContainerState {
  service: string;
  state: 'running' | 'exited' | 'restarting';
  health: '' | 'healthy' | 'unhealthy' | 'starting';
}

/** Log lines per compose service, as `docker compose logs --timestamps` prints them, kept for a few minutes. */
export class ComposeLogs {
  readonly #lines = new Map<string, Array<{ at: number; text: string }>>();
  readonly #keepMs: number;
  constructor(keepMs = 10 * 60_000) {
    this.#keepMs = keepMs;
  }

  write(service: string, text: string, at = Date.now()): void {
    const lines = this.#lines.get(service) ?? [];
    lines.push({ at, text });
    while (lines.length > 0 && lines[0]!.at < at - this.#keepMs) lines.shift();
    this.#lines.set(service, lines);
  }

  /** `<container> | <timestamp> <text>` for every line of `service` since `sinceMs`. */
  since(service: string, sinceMs: number): string {
    return this.#print(service, (this.#lines.get(service) ?? []).filter((l) => l.at >= sinceMs));
  }

  /** The last `count` lines of `service`, as `--tail` prints them. */
  tail(service: string, count: number): string {
    return this.#print(service, count === 0 ? [] : (this.#lines.get(service) ?? []).slice(-count));
  }

  #print(service: string, lines: Array<{ at: number; text: string }>): string {
    const name = `${COMPOSE_PROJECT}-${service}-1`;
    return lines.map((l) => `${name}  | ${new Date(l.at).toISOString()} ${l.text}\n`).join('');
  }
}

export interface DemoSshHost {
  port: number;
  /** `SHA256:…`, pinned as host_key_sha256 in the demo's config. */
  fingerprint: string;
  /** The only key the host accepts (OpenSSH private key text). */
  clientPrivateKey: string;
  close(): Promise<void>;
}

export interface SshHostOptions {
  compose: { dir: string; containers: () => ContainerState[]; logs: ComposeLogs };
  /** The destination ports forwarding may reach on 127.0.0.1 (the database, Redis), as sshd's PermitOpen would. */
  permitOpen: readonly number[];
}

function parsedKey(text: string): ParsedKey {
  const key = ssh2.utils.parseKey(text);
  if (key instanceof Error || Array.isArray(key)) throw new DemoError('a generated SSH key does not parse');
  return key;
}

/**
 * A fresh ed25519 key pair that ssh2 can read back: about 1 in 250 keys ssh2's own generator makes
 * fails its own parser ("Malformed OpenSSH private key"), so a pair is drawn again until it parses.
 */
export function generateEd25519(opts: { passphrase?: string } = {}): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = opts.passphrase
      ? ssh2.utils.generateKeyPairSync('ed25519', { passphrase: opts.passphrase, cipher: 'aes256-ctr', rounds: 4 })
      : ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(pair.private, opts.passphrase);
    if (!(parsed instanceof Error) && !Array.isArray(parsed) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) {
      return { private: pair.private, public: pair.public };
    }
  }
  throw new DemoError('could not generate an SSH key that parses');
}

/**
 * Serves one direct-tcpip request as sshd does: connects to the destination, and reject() answers
 * "connect failed" when nothing listens there (the database is stopped).
 */
export function forwardTcp(
  accept: () => ServerChannel,
  reject: () => void,
  info: { destIP: string; destPort: number },
): void {
  const upstream = tcpConnect(info.destPort, info.destIP);
  upstream.on('error', () => reject());
  upstream.on('connect', () => {
    const channel = accept();
    channel.on('error', () => undefined);
    channel.pipe(upstream).pipe(channel);
    channel.on('close', () => upstream.destroy());
    upstream.on('close', () => channel.end());
  });
}

/** Starts the host on a free port; its host key and the client key are generated fresh each time. */
export async function startDemoSshHost(opts: SshHostOptions): Promise<DemoSshHost> {
  const hostKey = generateEd25519();
  const clientKey = generateEd25519();
  const accepted = parsedKey(clientKey.public);
  const conns = new Set<Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    conns.add(client);
    client.on('error', () => undefined);
    client.on('close', () => conns.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (ctx.key.algo !== accepted.type || !ctx.key.data.equals(accepted.getPublicSSH())) return ctx.reject(['publickey']);
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      return accepted.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, _reject, info) => answer(acceptExec(), playCompose(info.command, opts.compose)));
      });
      client.on('tcpip', (accept, reject, info) => {
        if (info.destIP !== '127.0.0.1' || !opts.permitOpen.includes(info.destPort)) return reject();
        forwardTcp(accept, reject, info);
      });
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    fingerprint: fingerprintOf(parsedKey(hostKey.public).getPublicSSH()),
    clientPrivateKey: clientKey.private,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.end();
        server.close(() => resolve());
      }),
  };
}

interface Reply {
  stdout?: string;
  stderr?: string;
  code: number;
}

function answer(stream: ServerChannel, reply: Reply): void {
  stream.on('error', () => undefined);
  stream.resume();
  if (reply.stderr) stream.stderr.write(reply.stderr);
  if (reply.stdout) stream.write(reply.stdout);
  stream.exit(reply.code);
  stream.end();
}

/**
 * Answers `cd <dir> && docker compose …` the way the VM would: `ps --all --format json` from the
 * containers' current states, `logs --no-color --timestamps --since <N>s <service>` (or `--tail <N>`,
 * as triage asks) from the log lines the fake services wrote; anything else is an error as a shell or compose would print it.
 */
export function playCompose(command: string, compose: SshHostOptions['compose'], now = Date.now()): Reply {
  const words = parseShell(command);
  const plain = words.every((w): w is string => typeof w === 'string' || (typeof w === 'object' && 'op' in w && w.op === '&&'));
  const and = words.findIndex((w) => typeof w === 'object' && 'op' in w && w.op === '&&');
  const rest = words.slice(and + 1) as string[];
  if (!plain || and !== 2 || words[0] !== 'cd' || rest[0] !== 'docker' || rest[1] !== 'compose') {
    return { stderr: `sh: 1: unexpected command: ${command}\n`, code: 2 };
  }
  if (words[1] !== compose.dir) return { stderr: `sh: 1: cd: can't cd to ${String(words[1])}\n`, code: 2 };
  const args = rest.slice(2).join(' ');
  if (args === 'ps --all --format json') return { stdout: psJson(compose.containers()), code: 0 };
  const logs = /^logs --no-color --timestamps --(since|tail) (\d+)(s?) ([a-z0-9_-]+)$/.exec(args);
  if (logs && (logs[1] === 'since') === (logs[3] === 's')) {
    const [, option, amount, , service] = logs as unknown as [string, string, string, string, string];
    if (!compose.containers().some((c) => c.service === service)) return { stderr: `no such service: ${service}\n`, code: 1 };
    const stdout = option === 'since' ? compose.logs.since(service, now - Number(amount) * 1000) : compose.logs.tail(service, Number(amount));
    return { stdout, code: 0 };
  }
  return { stderr: `unknown docker command: "docker compose ${args}"\n`, code: 1 };
}

/** One JSON object per line, as Compose ≥ 2.21 prints `ps --format json`. */
function psJson(containers: ContainerState[]): string {
  return containers
    .map((c) => {
      const health = c.health ? ` (${c.health})` : '';
      const status = c.state === 'running' ? `Up 2 hours${health}` : c.state === 'restarting' ? 'Restarting (1) 3 seconds ago' : 'Exited (1) 10 seconds ago';
      return JSON.stringify({
        Name: `${COMPOSE_PROJECT}-${c.service}-1`,
        Service: c.service,
        Project: COMPOSE_PROJECT,
        State: c.state,
        Health: c.health,
        Status: status,
        ExitCode: c.state === 'running' ? 0 : 1,
      });
    })
    .join('\n') + '\n';
}
