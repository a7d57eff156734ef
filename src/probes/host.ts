// The `host` probe: disk space and inodes of every real mount (`df -P`, `df -Pi`) and MemAvailable, over SSH.
import type { HostProbeConfig } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import { SshError } from '../transport/ssh.js';
import type { Finding, Severity } from '../types.js';
import type { ProbeFn } from './contract.js';
import { commandFailure, excerpt } from './compose-command.js';
import { maskSecrets } from './mask-secrets.js';
import { oneMilder } from './pg-common.js';

export type HostProbe = ResolvedProbe & { spec: HostProbeConfig };

// Section markers in the one command's output; `df` and `cat` never print a line starting with "@@vigil".
const INODES = '@@vigil:inodes';
const MEMINFO = '@@vigil:meminfo';
/** C locale: the header and number formats are df's own, whatever the host's language. */
export const HOST_COMMAND = `LC_ALL=C df -P; echo '${INODES}'; LC_ALL=C df -Pi; echo '${MEMINFO}'; cat /proc/meminfo`;
const MAX_OUTPUT_BYTES = 256 * 1024;

/**
 * Sources and mount points that are not disks an operator fills: memory-backed filesystems (tmpfs,
 * devtmpfs, /dev/shm), container layers (overlay under /var/lib/docker, which mirror the disk they
 * live on), kernel interfaces (/proc, /sys, /dev, /run), and snap's read-only squashfs images under
 * /snap, which are always 100 % full by design. A filesystem that reports 0 blocks is pseudo as well.
 */
const PSEUDO_SOURCES = new Set(['tmpfs', 'devtmpfs', 'overlay', 'shm', 'udev', 'none', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'nsfs', 'efivarfs']);
const PSEUDO_MOUNTS = ['/proc', '/sys', '/dev', '/run', '/snap', '/var/lib/docker', '/var/snap'];

export interface Mount {
  source: string;
  mount: string;
  /** 1024-byte blocks. */
  totalKb: number;
  usedKb: number;
  availableKb: number;
  /** The df line, for evidence. */
  line: string;
}

export interface Inodes {
  total: number;
  used: number;
  line: string;
}

export interface HostReading {
  mounts: Mount[];
  inodes: Map<string, Inodes>;
  memory: { totalKb: number; availableKb: number } | null;
  /** What could not be read, in the operator's words; empty when everything was understood. */
  problems: string[];
}

export function isPseudoMount(source: string, mount: string, totalKb: number): boolean {
  if (totalKb === 0 || PSEUDO_SOURCES.has(source)) return true;
  return PSEUDO_MOUNTS.some((p) => mount === p || mount.startsWith(`${p}/`));
}

const DF_LINE = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(\/.*)$/;
const DFI_LINE = /^(\S+)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+%|-)\s+(\/.*)$/;

/** Reads the command's output; anything it does not understand becomes a problem, never a throw. */
export function parseHostOutput(stdout: string): HostReading {
  const problems: string[] = [];
  const inodesAt = stdout.indexOf(`\n${INODES}\n`);
  const memAt = stdout.indexOf(`\n${MEMINFO}\n`);
  const reading: HostReading = { mounts: [], inodes: new Map(), memory: null, problems };
  if (inodesAt < 0 || memAt < inodesAt) {
    problems.push('the output is not that of df and /proc/meminfo');
    return reading;
  }
  const inodes = stdout.slice(inodesAt + INODES.length + 2, memAt).split('\n');
  const meminfo = stdout.slice(memAt + MEMINFO.length + 2);
  reading.mounts = parseDf(stdout.slice(0, inodesAt), problems);
  for (const m of dfRows(inodes, 'df -Pi', DFI_LINE, problems)) {
    const [line, , total, used, , , mount] = m as unknown as string[];
    // Filesystems without an inode table (btrfs, vfat) print 0 or "-": nothing to judge.
    if (total === '-' || used === '-' || Number(total) === 0) continue;
    reading.inodes.set(mount!, { total: Number(total), used: Number(used), line: line! });
  }
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
    return m ? Number(m[1]) : null;
  };
  const totalKb = field('MemTotal');
  const availableKb = field('MemAvailable');
  if (totalKb === null || totalKb === 0) problems.push('/proc/meminfo has no MemTotal');
  else if (availableKb === null) problems.push('/proc/meminfo has no MemAvailable (Linux before 3.14?)');
  else reading.memory = { totalKb, availableKb };
  return reading;
}

/** The real mounts of `df -P` output; lines it does not understand are added to `problems`. */
export function parseDf(text: string, problems: string[]): Mount[] {
  const mounts: Mount[] = [];
  for (const m of dfRows(text.split('\n'), 'df -P', DF_LINE, problems)) {
    const [line, source, total, used, available, , mount] = m as unknown as string[];
    const totalKb = Number(total);
    if (isPseudoMount(source!, mount!, totalKb)) continue;
    mounts.push({ source: source!, mount: mount!, totalKb, usedKb: Number(used), availableKb: Number(available), line: line! });
  }
  return mounts;
}

function dfRows(lines: string[], what: string, pattern: RegExp, problems: string[]): RegExpExecArray[] {
  const [header, ...rows] = lines.filter((l) => l.trim() !== '');
  if (!header || !/^Filesystem\s/.test(header)) {
    problems.push(`${what} printed no table${header ? ` (first line: ${JSON.stringify(header.slice(0, 80))})` : ''}`);
    return [];
  }
  const matched: RegExpExecArray[] = [];
  for (const row of rows) {
    const m = pattern.exec(row);
    if (m) matched.push(m);
    else problems.push(`${what} line not understood: ${JSON.stringify(row.slice(0, 120))}`);
  }
  return matched;
}

export const hostProbe: ProbeFn<HostProbe> = async (probe, ctx) => {
  const { spec } = probe;
  let result;
  try {
    result = await ctx.transports.ssh.exec(spec.host, HOST_COMMAND, { timeoutMs: probe.timeoutMs, signal: ctx.signal, maxBytes: MAX_OUTPUT_BYTES });
  } catch (err) {
    if (err instanceof SshError) return [ctx.transports.ssh.hostFinding(spec.host, err)];
    return [{ key: probe.id, ok: false, message: `df on ${spec.host} could not run: ${(err as Error)?.message ?? String(err)}` }];
  }
  const findings: Finding[] = [ctx.transports.ssh.hostFinding(spec.host, null)];
  // The status is cat's; a missing /proc/meminfo (exit 1) is judged by the parser, which says what is missing.
  const failure =
    result.code === 127
      ? { message: `df or cat not found on ${spec.host}: ${maskSecrets(result.stderr.trim().split('\n')[0] ?? '')}` }
      : result.code === 1 && !result.timedOut && !result.truncated
        ? null
        : commandFailure(result, 'df', spec.host, probe.timeoutMs);
  if (failure) {
    findings.push({ key: probe.id, ok: false, message: failure.message, ...(failure.evidence ? { evidence: failure.evidence } : {}) });
    return findings;
  }
  const reading = parseHostOutput(result.stdout);
  const stderr = maskSecrets(result.stderr.trim());
  if (reading.problems.length > 0) {
    const evidence = excerpt([...reading.problems.slice(1), stderr, maskSecrets(result.stdout.trim())].filter((s) => s !== '').join('\n'));
    findings.push({ key: probe.id, ok: false, message: `output of df or /proc/meminfo on ${spec.host} not understood: ${reading.problems[0]}`, evidence });
  } else {
    const fullest = [...reading.mounts].sort((a, b) => usedShare(b) - usedShare(a))[0];
    const parts = [`${reading.mounts.length} ${reading.mounts.length === 1 ? 'mount' : 'mounts'}`];
    if (fullest) parts.push(`fullest ${fullest.mount} ${pct(usedShare(fullest))}`);
    if (reading.memory) parts.push(`memory ${pct(memoryShare(reading.memory))} used`);
    findings.push({ key: probe.id, ok: true, message: `${spec.host}: ${parts.join(', ')}${stderr ? ` (df said: ${stderr.split('\n')[0]})` : ''}` });
  }
  if (spec.disk !== false) {
    for (const mount of reading.mounts) findings.push(diskFinding(probe, spec.disk, mount, reading.inodes.get(mount.mount)));
  }
  if (spec.memory !== false && reading.memory) findings.push(memoryFinding(probe, spec.memory, reading.memory));
  return findings;
};

type Thresholds = { warn: number; critical?: number | undefined };

/** critical → the probe's severity; warn → one step milder (S2 → S3), so a filling disk warns before it pages. */
function judge(probe: HostProbe, t: Thresholds, share: number): { severity: Severity; limit: string } | null {
  if (t.critical !== undefined && share >= t.critical) return { severity: probe.severity, limit: `critical ${pct(t.critical)}` };
  if (share >= t.warn) return { severity: oneMilder(probe.severity), limit: `warn ${pct(t.warn)}` };
  return null;
}

function diskFinding(probe: HostProbe, t: Thresholds, mount: Mount, inodes: Inodes | undefined): Finding {
  const blocks = usedShare(mount);
  const inodeShare = inodes ? inodes.used / inodes.total : 0;
  const space = `${pct(blocks)} full (${size(mount.usedKb)} of ${size(mount.usedKb + mount.availableKb)} used, ${size(mount.availableKb)} free)`;
  const inodeText = inodes ? `inodes ${pct(inodeShare)} used (${inodes.used} of ${inodes.total})` : 'no inode count';
  const onBlocks = judge(probe, t, blocks);
  const onInodes = inodes ? judge(probe, t, inodeShare) : null;
  const verdict = onBlocks && onInodes ? (onInodes.severity < onBlocks.severity ? onInodes : onBlocks) : (onBlocks ?? onInodes);
  const key = `${probe.id}:disk:${mount.mount}`;
  const values = { used_ratio: blocks, inodes_ratio: inodeShare, available_bytes: mount.availableKb * 1024 };
  const text = `${mount.mount} on ${probe.spec.host} ${space}; ${inodeText}`;
  if (!verdict) return { key, ok: true, message: text, values };
  const what = onInodes && (!onBlocks || verdict === onInodes) && inodeShare >= blocks ? 'out of inodes' : 'disk filling';
  const evidence = ['Filesystem 1024-blocks Used Available Capacity Mounted on', mount.line, ...(inodes ? ['Filesystem Inodes IUsed IFree IUse% Mounted on', inodes.line] : [])].join('\n');
  return { key, ok: false, severity: verdict.severity, message: `${what}: ${text}, at or past ${verdict.limit}`, evidence: maskSecrets(evidence), values };
}

function memoryFinding(probe: HostProbe, t: Thresholds, memory: { totalKb: number; availableKb: number }): Finding {
  const share = memoryShare(memory);
  const key = `${probe.id}:memory`;
  const text = `memory on ${probe.spec.host} ${pct(share)} used (${size(memory.availableKb)} available of ${size(memory.totalKb)})`;
  const values = { used_ratio: share, available_bytes: memory.availableKb * 1024 };
  const verdict = judge(probe, t, share);
  if (!verdict) return { key, ok: true, message: text, values };
  return { key, ok: false, severity: verdict.severity, message: `${text}, at or past ${verdict.limit}`, values };
}

/** What df's Capacity shows: used over what non-root users can have (root's reserved blocks excluded). */
export function usedShare(m: Mount): number {
  const usable = m.usedKb + m.availableKb;
  return usable === 0 ? 0 : m.usedKb / usable;
}

function memoryShare(m: { totalKb: number; availableKb: number }): number {
  return Math.min(1, Math.max(0, 1 - m.availableKb / m.totalKb));
}

export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function size(kb: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = kb;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
