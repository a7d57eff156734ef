// An in-process SSH host for tests: ssh2 Server on 127.0.0.1:0 that plays `docker compose` from fixtures and forwards TCP.
import { parse as parseShell } from 'shell-quote';
import { forwardTcp, generateEd25519 } from '../../src/demo/ssh-host.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import { pino } from 'pino';
import { probeSchema } from '../../src/config/schema.js';
import type { ResolvedHost, ResolvedProbe } from '../../src/config/types.js';
import type { Transports } from '../../src/transport/index.js';
import { PgTransport } from '../../src/transport/pg.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { fingerprintOf } from '../../src/transport/ssh-hostkey.js';
import type { HasTeardown } from './tmp.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'compose');

/** What the host does with one command. */
export interface ExecReply {
  stdout?: string | Buffer;
  stderr?: string;
  code?: number;
  signal?: string;
  /** Never answer: the command hangs until the client closes the channel. */
  hang?: boolean;
  /** Answer only after this long (a command that takes a while, then exits). */
  delayMs?: number;
  /** Write stdout, then drop the whole SSH connection without an exit status. */
  disconnect?: boolean;
  /** Write this many bytes of output (in 64 KiB chunks) before exiting 0. */
  floodBytes?: number;
}

/** The compose project the fake `docker` reports: fixture file names under test/fixtures/compose. */
export interface DockerScene {
  ps: string;
  logs: Record<string, string>;
}

export interface KeyPair {
  private: string;
  public: string;
}

export interface FakeSshHost {
  port: number;
  /** `ssh-ed25519 AAAA…` as it would be pinned in `host_key`. */
  hostKeyLine: string;
  fingerprint: string;
  /** The key the host accepts; `hostFor()` uses it. */
  clientKey: KeyPair;
  scene: DockerScene;
  /** Takes precedence over the docker player when it returns a reply. */
  reply: (command: string) => ExecReply | undefined;
  /** Read when a connection is established: a change applies to the next connection. */
  allowForwarding: boolean;
  commands: string[];
  /** TCP connections accepted, authentication attempts, channels the client closed before the command ended. */
  stats: { connections: number; authAttempts: number; execs: number; running: number; maxRunning: number; closedByClient: number; forwards: number };
  /** Drops every SSH connection, as a host reboot would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export function generateKey(passphrase?: string): KeyPair {
  return generateEd25519(passphrase ? { passphrase } : {});
}

function parsed(text: string, passphrase?: string): ParsedKey {
  const key = ssh2.utils.parseKey(text, passphrase);
  if (key instanceof Error || Array.isArray(key)) throw new Error('test key does not parse');
  return key;
}

export async function startSshServer(t: HasTeardown, opts: { acceptKey?: string } = {}): Promise<FakeSshHost> {
  const hostKey = generateKey();
  const clientKey = generateKey();
  const accepted = parsed(opts.acceptKey ?? clientKey.public);
  const hostPublic = parsed(hostKey.public);
  const conns = new Set<Connection>();
  const host: FakeSshHost = {
    port: 0,
    hostKeyLine: `${hostPublic.type} ${hostPublic.getPublicSSH().toString('base64')}`,
    fingerprint: fingerprintOf(hostPublic.getPublicSSH()),
    clientKey,
    scene: { ps: 'ps-lines.jsonl', logs: { backend: 'logs-backend.txt' } },
    reply: () => undefined,
    allowForwarding: true,
    commands: [],
    stats: { connections: 0, authAttempts: 0, execs: 0, running: 0, maxRunning: 0, closedByClient: 0, forwards: 0 },
    dropConnections: () => {
      for (const c of conns) c.end();
    },
    close: async () => undefined,
  };

  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    host.stats.connections += 1;
    conns.add(client);
    client.on('error', () => undefined);
    client.on('close', () => conns.delete(client));
    // Without it, Nagle here and delayed ACKs in the client add ~40 ms to every command.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('authentication', (ctx) => {
      host.stats.authAttempts += 1;
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const same = ctx.key.algo === accepted.type && ctx.key.data.equals(accepted.getPublicSSH());
      if (!same) return ctx.reject(['publickey']);
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      return accepted.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, _reject, info) => {
          host.commands.push(info.command);
          host.stats.execs += 1;
          const stream = acceptExec();
          play(host, client, stream, host.reply(info.command) ?? playDocker(info.command, host.scene));
        });
      });
      // Without a listener ssh2 answers "administratively prohibited", as sshd with AllowTcpForwarding no.
      if (!host.allowForwarding) return;
      client.on('tcpip', (accept, reject, info) => {
        host.stats.forwards += 1;
        forwardTcp(accept, reject, info);
      });
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host.port = (server.address() as { port: number }).port;
  host.close = () =>
    new Promise<void>((resolve) => {
      host.dropConnections();
      server.close(() => resolve());
    });
  t.teardown(() => host.close());
  return host;
}

function play(host: FakeSshHost, client: Connection, stream: ServerChannel, reply: ExecReply): void {
  let done = false;
  host.stats.running += 1;
  host.stats.maxRunning = Math.max(host.stats.maxRunning, host.stats.running);
  stream.on('error', () => undefined);
  // Reading stdin lets the channel end, and so close, when the client closes it.
  stream.resume();
  stream.on('close', () => {
    host.stats.running -= 1;
    if (!done) host.stats.closedByClient += 1;
  });
  const finish = () => {
    done = true;
    if (reply.signal) stream.exit(reply.signal, false, '');
    else stream.exit(reply.code ?? 0);
    stream.end();
  };
  const answer = (): void => {
    if (reply.stderr) stream.stderr.write(reply.stderr);
    if (reply.stdout) stream.write(reply.stdout);
    if (reply.hang) return;
    if (reply.disconnect) {
      done = true;
      setTimeout(() => client.end(), 20);
      return;
    }
    if (reply.floodBytes) {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = reply.floodBytes;
      const pump = () => {
        while (left > 0 && stream.writable) {
          left -= chunk.length;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        if (stream.writable) finish();
      };
      return void pump();
    }
    finish();
  };
  if (reply.delayMs !== undefined && reply.delayMs > 0) {
    const timer = setTimeout(answer, reply.delayMs);
    stream.once('close', () => clearTimeout(timer));
    return;
  }
  answer();
}

/**
 * Plays `cd <dir> && <docker> compose …` the way a host with docker would answer: the command is
 * split into words as sh would (shell-quote's parse), an unknown docker command is exit 127, `ps`
 * and `logs` read the scene's fixtures, anything else is a compose error.
 */
export function playDocker(command: string, scene: DockerScene): ExecReply {
  const words = parseShell(command);
  const and = words.findIndex((w) => typeof w === 'object' && 'op' in w && w.op === '&&');
  const rest = words.slice(and + 1);
  const compose = rest.indexOf('compose');
  const plain = (ws: unknown[]): ws is string[] => ws.every((w) => typeof w === 'string');
  if (and !== 2 || words[0] !== 'cd' || compose < 1 || !plain(words.slice(0, 2)) || !plain(rest)) {
    return { stderr: `sh: 1: Syntax error: unexpected command\n`, code: 2 };
  }
  const docker = rest.slice(0, compose).join(' ');
  if (docker !== 'docker' && docker !== 'sudo docker') return { stderr: `sh: 1: ${docker}: not found\n`, code: 127 };
  const args = rest.slice(compose + 1);
  if (args.join(' ') === 'ps --all --format json') return { stdout: fixture(scene.ps) };
  if (args.length === 6 && args.slice(0, 4).join(' ') === 'logs --no-color --timestamps --since' && /^\d+s$/.test(args[4]!)) {
    const file = scene.logs[args[5]!];
    return file ? { stdout: fixture(file) } : { stderr: `no such service: ${args[5]}\n`, code: 1 };
  }
  return { stderr: `unknown docker command: "docker compose ${args.join(' ')}"\n`, code: 1 };
}

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A host as the config loader would resolve it, pointing at the fake host and pinning its key. */
export function hostFor(fake: FakeSshHost, overrides: Partial<ResolvedHost> = {}): ResolvedHost {
  return {
    name: 'app-1',
    environment: 'production',
    address: '127.0.0.1',
    port: fake.port,
    user: 'vigil',
    private_key_env: 'VIGIL_TEST_SSH_KEY',
    host_key: fake.hostKeyLine,
    compose_dir: '/home/ubuntu/services/shootify-deploy',
    docker: 'docker',
    unreachable_severity: 'S2',
    privateKey: fake.clientKey.private,
    passphrase: null,
    ...overrides,
  };
}

/** A compose probe as the loader resolves it: the YAML shape parsed by the real schema, meta filled in. */
export function composeTestProbe(raw: Record<string, unknown>, meta: Partial<ResolvedProbe> = {}): ResolvedProbe {
  const spec = probeSchema.parse({ id: 'app-ps', host: 'app-1', ...raw });
  if (spec.type !== 'compose_ps' && spec.type !== 'compose_logs') throw new Error('not a compose probe');
  return {
    id: spec.id,
    type: spec.type,
    environment: 'production',
    service: spec.type === 'compose_logs' ? spec.service : spec.host,
    severity: spec.type === 'compose_logs' ? 'S3' : 'S2',
    summary: `${spec.id} failing`,
    intervalMs: 30_000,
    schedule: null,
    timeoutMs: spec.timeout ?? 5_000,
    failureThreshold: 2,
    successThreshold: 2,
    dependsOn: [],
    implicitDeps: [`host:${spec.host}`],
    enabled: true,
    escalate: [],
    spec,
    headers: {},
    ...meta,
  };
}

/** The transports a probe borrows, with the SSH transport under test and an idle PostgreSQL one. */
export function transportsFor(t: HasTeardown, hosts: ResolvedHost[]): Transports {
  const log = pino({ enabled: false });
  const ssh = new SshTransport(Object.fromEntries(hosts.map((h) => [h.name, h])), log);
  const pg = new PgTransport({}, log, ssh);
  const transports: Transports = { ssh, pg, update: () => undefined, close: async () => {
    await pg.close();
    await ssh.close();
  } };
  t.teardown(() => transports.close());
  return transports;
}
