// The real programs some tests run against, and the one way such a test says it could not run.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The prefix of every skip reason for a missing peer. `.ci/run` fails the build when a test skipped
 * with it under CI, where every peer is installed: keep the two in step.
 */
export const PEER_MISSING = 'peer missing:';

export interface Peer {
  /** What the tests call, e.g. "promtool". */
  name: string;
  /** Where the Debian package puts it (what .ci/run checks before installing). */
  path: string;
  /** The Debian package that installs it. */
  pkg: string;
}

export const PEERS = {
  prometheus: { name: 'prometheus', path: '/usr/bin/prometheus', pkg: 'prometheus' },
  promtool: { name: 'promtool', path: '/usr/bin/promtool', pkg: 'prometheus' },
  amtool: { name: 'amtool', path: '/usr/bin/amtool', pkg: 'prometheus-alertmanager' },
  sshd: { name: 'sshd', path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  chromium: { name: 'chromium', path: '/usr/bin/chromium', pkg: 'chromium' },
  redisServer: { name: 'redis-server', path: '/usr/bin/redis-server', pkg: 'redis-server' },
  systemdAnalyze: { name: 'systemd-analyze', path: '/usr/bin/systemd-analyze', pkg: 'systemd' },
  podman: { name: 'podman', path: '/usr/bin/podman', pkg: 'podman' },
  debootstrap: { name: 'debootstrap', path: '/usr/sbin/debootstrap', pkg: 'debootstrap' },
} as const satisfies Record<string, Peer>;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The peer's executable: the Debian path, else the first on PATH; null when neither is there. */
export function findPeer(peer: Peer): string | null {
  if (executable(peer.path)) return peer.path;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, peer.name))) return join(dir, peer.name);
  }
  return null;
}

/**
 * tap's `skip` option for a test that needs `peer`: false when it is installed, else a reason that
 * says what is missing and how to get it. Never gated on CI: a missing peer is reported, not hidden.
 */
export function skipWithout(...peers: Peer[]): string | false {
  const missing = peers.filter((p) => findPeer(p) === null);
  if (missing.length === 0) return false;
  return `${PEER_MISSING} ${missing.map((p) => `${p.name} (${p.path}; apt-get install ${p.pkg})`).join(', ')}; bash .ci/run installs it`;
}
