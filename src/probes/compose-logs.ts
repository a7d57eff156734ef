// The `compose_logs` probe: counts a service's log lines matching a pattern over a window, with masked evidence.
import { StringDecoder } from 'node:string_decoder';
import type { ResolvedProbe } from '../config/types.js';
import { SshError } from '../transport/ssh.js';
import type { Finding } from '../types.js';
import type { ProbeFn } from './contract.js';
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
  const rate = spec.error_rate;
  // One read covers both windows; the narrower one is then cut by each line's own timestamp.
  const readMs = Math.max(spec.window, rate?.window ?? 0);
  const window = `${Math.max(1, Math.ceil(readMs / 1000))}s`;
  const now = ctx.now();
  const counter = new MatchCounter(new RegExp(spec.pattern), {
    ...(spec.window < readMs ? { since: now - spec.window } : {}),
    ...(rate && rate.window < readMs ? { rateSince: now - rate.window } : {}),
  });
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
  // With only an error_rate configured, the plain count is reported but judges nothing.
  const threshold = spec.threshold ?? (rate ? null : 1);
  const finding: Finding = {
    key: probe.id,
    ok: threshold === null || count < threshold,
    message:
      count === 0
        ? `no lines matching /${spec.pattern}/ in ${where}`
        : `${count} ${lines} matching /${spec.pattern}/ in ${where}${threshold === null ? '' : ` (threshold ${threshold})`}`,
    values: { count },
  };
  if (count > 0) finding.evidence = counter.evidence();
  findings.push(finding);
  if (rate) findings.push(errorRateFinding(probe, counter, rate));
  return findings;
};

/** `<id>:error_rate`: matching lines over all lines of the service in the rate's window. */
function errorRateFinding(probe: ComposeLogsProbe, counter: MatchCounter, rate: NonNullable<ComposeLogsSpec['error_rate']>): Finding {
  const { rateMatches: matches, rateTotal: total } = counter;
  const where = `${probe.spec.service} logs on ${probe.spec.host} over the last ${humanWindow(rate.window)}`;
  const key = `${probe.id}:error_rate`;
  if (total === 0) return { key, ok: true, message: `no log lines in ${where}: no error rate to judge`, values: { error_rate: 0, lines: 0 } };
  const ratio = matches / total;
  const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;
  const text = `${matches} of ${total} lines match /${probe.spec.pattern}/ (${pct(ratio)}) in ${where}`;
  const failing = ratio > rate.above;
  const finding: Finding = {
    key,
    ok: !failing,
    message: failing ? `error rate ${pct(ratio)} above ${pct(rate.above)}: ${text}` : text,
    values: { error_rate: ratio, lines: total, matches },
  };
  if (failing && rate.severity !== undefined) finding.severity = rate.severity;
  if (failing) finding.evidence = counter.evidence();
  return finding;
}

/**
 * Counts lines as they stream in. The pattern is tested against a line's text, without the
 * `<container> | <timestamp>` prefix, so a container name or a date cannot match by accident.
 */
export class MatchCounter {
  /** Matching lines in the probe's window. */
  count = 0;
  /** Matching lines and all lines in the error rate's window. */
  rateMatches = 0;
  rateTotal = 0;
  readonly #pattern: RegExp;
  readonly #since: number | undefined;
  readonly #rateSince: number | undefined;
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  readonly #last: string[] = [];

  /**
   * `since` / `rateSince` (ms since epoch) narrow a window shorter than what was read: a line older
   * than them by its own timestamp is left out of that count. A line without a readable timestamp counts.
   */
  constructor(pattern: RegExp, windows: { since?: number; rateSince?: number } = {}) {
    this.#pattern = pattern;
    this.#since = windows.since;
    this.#rateSince = windows.rateSince;
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
    const at = this.#since === undefined && this.#rateSince === undefined ? null : logTime(line);
    const inWindow = at === null || this.#since === undefined || at >= this.#since;
    const inRate = at === null || this.#rateSince === undefined || at >= this.#rateSince;
    if (inRate) this.rateTotal += 1;
    if (!this.#pattern.test(logText(line))) return;
    if (inRate) this.rateMatches += 1;
    if (!inWindow) return;
    this.count += 1;
    this.#last.push(line.length > MAX_EVIDENCE_LINE ? `${line.slice(0, MAX_EVIDENCE_LINE)}…` : line);
    if (this.#last.length > EVIDENCE_LINES) this.#last.shift();
  }
}

/** The `--timestamps` time of a compose log line in ms since epoch, or null when it has none. */
export function logTime(line: string): number | null {
  const m = /^[^|\s]+\s*\|\s?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)/.exec(line);
  if (!m) return null;
  const at = Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`);
  return Number.isFinite(at) ? at : null;
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
