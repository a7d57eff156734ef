// The `compose_logs` probe: counts a service's log lines matching a pattern over a window, with masked evidence.
import { StringDecoder } from 'node:string_decoder';
import type { ResolvedProbe } from '../config/types.js';
import { SshError } from '../transport/ssh.js';
import type { Finding, ProbeFn } from '../types.js';
import { commandFailure, composeCommand } from './compose-command.js';
import { maskSecrets } from './mask-secrets.js';
import { shellQuote } from './shell-quote.js';

type ComposeLogsSpec = Extract<ResolvedProbe['spec'], { type: 'compose_logs' }>;
export type ComposeLogsProbe = ResolvedProbe & { spec: ComposeLogsSpec };

/** Matching lines kept as evidence: the last ones are what an operator reads first. */
export const EVIDENCE_LINES = 20;
const MAX_EVIDENCE_LINE = 500;

export const composeLogsProbe: ProbeFn<ComposeLogsProbe> = async (probe, ctx) => {
  const { spec } = probe;
  const host = spec.host;
  const window = `${Math.max(1, Math.ceil(spec.window / 1000))}s`;
  const counter = new MatchCounter(new RegExp(spec.pattern));
  let result;
  try {
    const command = `${composeCommand(ctx, host)} logs --no-color --timestamps --since ${shellQuote(window)} ${shellQuote(spec.service)}`;
    // Logs are only counted, never kept whole: a chatty service's window can be far larger than 1 MiB.
    result = await ctx.transports.ssh.exec(host, command, { timeoutMs: probe.timeoutMs, signal: ctx.signal, onStdout: (chunk) => counter.push(chunk) });
  } catch (err) {
    if (err instanceof SshError) return [ctx.transports.ssh.hostFinding(host, err)];
    return [{ key: probe.id, ok: false, message: `docker compose logs on ${host} could not run: ${(err as Error).message}` }];
  }
  counter.end();
  const findings: Finding[] = [ctx.transports.ssh.hostFinding(host, null)];
  const failure = commandFailure(result, `docker compose logs ${spec.service}`, host, probe.timeoutMs);
  if (failure) {
    findings.push({ key: probe.id, ok: false, message: failure.message, ...(failure.evidence ? { evidence: failure.evidence } : {}) });
    return findings;
  }
  const { count } = counter;
  const where = `${spec.service} logs on ${host} over the last ${humanWindow(spec.window)}`;
  const lines = count === 1 ? 'line' : 'lines';
  const finding: Finding = {
    key: probe.id,
    ok: count < spec.threshold,
    message: count === 0 ? `no lines matching /${spec.pattern}/ in ${where}` : `${count} ${lines} matching /${spec.pattern}/ in ${where} (threshold ${spec.threshold})`,
    values: { count },
  };
  if (count > 0) finding.evidence = counter.evidence();
  findings.push(finding);
  return findings;
};

/**
 * Counts lines as they stream in. The pattern is tested against a line's text, without the
 * `<container> | <timestamp>` prefix, so a container name or a date cannot match by accident.
 */
export class MatchCounter {
  count = 0;
  readonly #pattern: RegExp;
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  readonly #last: string[] = [];

  constructor(pattern: RegExp) {
    this.#pattern = pattern;
  }

  push(chunk: Buffer): void {
    const text = this.#partial + this.#decoder.write(chunk);
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    // A line longer than anything a log line should be is judged by its start, not buffered forever.
    if (this.#partial.length > 64 * 1024) {
      this.#line(this.#partial);
      this.#partial = '';
    }
    for (const line of lines) this.#line(line);
  }

  end(): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    if (rest !== '') this.#line(rest);
  }

  /** The last matching lines, secrets masked. */
  evidence(): string {
    return this.#last.map((l) => maskSecrets(l)).join('\n');
  }

  #line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    if (!this.#pattern.test(logText(line))) return;
    this.count += 1;
    this.#last.push(line.length > MAX_EVIDENCE_LINE ? `${line.slice(0, MAX_EVIDENCE_LINE)}…` : line);
    if (this.#last.length > EVIDENCE_LINES) this.#last.shift();
  }
}

/** `backend-1  | 2026-11-27T21:15:46.576543210Z Traceback …` → `Traceback …`. */
export function logText(line: string): string {
  return line.replace(/^[^|\s]+\s*\|\s?/, '').replace(/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?\s?/, '');
}

function humanWindow(msValue: number): string {
  const s = Math.round(msValue / 1000);
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
