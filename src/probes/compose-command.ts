// What the compose probes share: the quoted `cd <dir> && <docker> compose` prefix and the reading of a failed command.
import type { ExecResult } from '../transport/ssh.js';
import type { ProbeContext } from './contract.js';
import { maskSecrets } from './mask-secrets.js';
import { quoteCommandWords, shellQuote } from './shell-quote.js';

export interface CommandFailure {
  message: string;
  evidence?: string;
}

const EXCERPT_CHARS = 2_000;

/**
 * `cd '<compose_dir>' && '<docker>' compose` for the host; every config value is quoted, so a path or
 * docker command from the config reaches the remote shell as data, never as a command.
 */
export function composeCommand(ctx: ProbeContext, hostName: string): string {
  const host = ctx.transports.ssh.hostConfig(hostName);
  const dir = host?.compose_dir ?? '.';
  const docker = host?.docker ?? 'docker';
  return `cd ${shellQuote(dir)} && ${quoteCommandWords(docker)} compose`;
}

/** The operator's reading of a command that did not succeed, or null when it exited 0 in time. */
export function commandFailure(result: ExecResult, what: string, host: string, timeoutMs: number): CommandFailure | null {
  const stderr = maskSecrets(result.stderr.trim());
  const firstLine = stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const withEvidence = (message: string): CommandFailure => {
    const evidence = excerpt([stderr, maskSecrets(result.stdout.trim())].filter((s) => s !== '').join('\n'));
    return evidence === '' ? { message } : { message, evidence };
  };
  if (result.timedOut) return withEvidence(`${what} on ${host} did not finish within ${seconds(timeoutMs)}; vigil closed the command`);
  if (result.truncated) return { message: `${what} on ${host} printed more than ${Math.round(result.stdout.length / 1024)} KiB; vigil stopped reading it`, evidence: excerpt(maskSecrets(result.stdout)) };
  if (result.signal !== null) return withEvidence(`${what} on ${host} was killed by signal ${result.signal}`);
  if (result.code === 127 || (result.code !== 0 && /command not found|: not found|No such file or directory/.test(firstLine) && /docker/.test(firstLine))) {
    return withEvidence(`docker not found on ${host} (exit ${result.code ?? '?'}${firstLine ? `: ${firstLine}` : ''}); check hosts.${host}.docker`);
  }
  if (result.code === null) return withEvidence(`${what} on ${host} ended without an exit status`);
  if (result.code !== 0) return withEvidence(`${what} on ${host} failed (exit ${result.code})${firstLine ? `: ${firstLine}` : ''}`);
  return null;
}

/** The start of a long text, cut at a line where possible, with a marker when cut. */
export function excerpt(text: string, limit = EXCERPT_CHARS): string {
  if (text.length <= limit) return text;
  const cut = text.lastIndexOf('\n', limit);
  return `${text.slice(0, cut > limit / 2 ? cut : limit)}\n…`;
}

function seconds(msValue: number): string {
  return msValue < 1000 ? `${msValue}ms` : `${Math.round(msValue / 100) / 10}s`;
}
