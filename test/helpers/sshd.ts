// A real OpenSSH sshd on 127.0.0.1 for interop tests: started from a config the test writes, stopped by pid with its forks.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { findPeer, PEERS } from './peers.js';

export const SSHD = findPeer(PEERS.sshd) ?? PEERS.sshd.path;

/** `sshd_config` lines every test sshd shares: key login only, no PAM, files in the test's own directory. */
export function baseSshdConfig(opts: { port: number; hostKeys: string[]; pidFile: string; authorizedKeys: string }): string[] {
  return [
    `Port ${opts.port}`,
    'ListenAddress 127.0.0.1',
    ...opts.hostKeys.map((k) => `HostKey ${k}`),
    `PidFile ${opts.pidFile}`,
    `AuthorizedKeysFile ${opts.authorizedKeys}`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
  ];
}

/** Starts sshd in the foreground (`-D`) and waits until it accepts connections. */
export async function startSshd(config: string, logFile: string, port: number): Promise<ChildProcess> {
  execFileSync(SSHD, ['-t', '-f', config]);
  const child = spawn(SSHD, ['-D', '-f', config, '-E', logFile], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not start: ${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : 'no log'}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Stops sshd and the per-connection processes it forked (they outlive the listener), by pid. */
export async function stopSshd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const forked = descendants(child.pid);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  for (const pid of forked) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
}

function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 2nd field after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [p, pp] of parentOf) if (pp === parent) {
      found.push(p);
      queue.push(p);
    }
  }
  return found;
}
