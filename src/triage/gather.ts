// Runs an incident's triage steps in parallel within one time budget: masked, size-bounded evidence and a short summary.
import type { Logger } from 'pino';
import { maskSecrets } from '../probes/mask-secrets.js';
import type { Transports } from '../transport/index.js';
import type { Evidence } from '../types.js';
import type { TriageStep } from './plan.js';
import { runStep, type StepOutcome } from './steps.js';

/** The whole triage of one incident, after which its first message goes out with whatever is in. */
export const TRIAGE_BUDGET_MS = 20_000;
/** One step's own bound inside the budget, so one slow host leaves room to say so. */
export const STEP_TIMEOUT_MS = 15_000;
/** Evidence text kept per step: the start of a table, the end of a log. */
export const MAX_EVIDENCE_CHARS = 4_000;
/** The summary fits a Discord embed field (1024) with room for its code fence. */
export const MAX_SUMMARY_CHARS = 900;

export interface GatherOptions {
  transports: Transports;
  log: Logger;
  now?: () => number;
  /** Aborts every step (shutdown); what finished by then is still returned. */
  signal?: AbortSignal;
  budgetMs?: number;
  stepTimeoutMs?: number;
}

export interface TriageResult {
  evidence: Evidence[];
  /** A few lines, one per step, for the first message. Empty when there were no steps. */
  summary: string;
  /** Steps that failed, unfinished ones included. */
  failed: number;
  /** Steps cut off by the budget or the signal. */
  unfinished: number;
}

/**
 * Never throws and never takes longer than the budget: a step that fails becomes evidence saying
 * what failed, one still running when the budget ends becomes evidence saying it did not finish
 * (and is aborted). Every text is masked again here, whatever the step did, and cut to size.
 */
export async function gatherTriage(steps: readonly TriageStep[], opts: GatherOptions): Promise<TriageResult> {
  const now = opts.now ?? Date.now;
  const budgetMs = opts.budgetMs ?? TRIAGE_BUDGET_MS;
  const controller = new AbortController();
  const stopOnAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);
  else opts.signal?.addEventListener('abort', stopOnAbort, { once: true });

  const outcomes: Array<{ outcome: StepOutcome; at: number } | undefined> = steps.map(() => undefined);
  const ctx = { transports: opts.transports, log: opts.log, now, signal: controller.signal, timeoutMs: opts.stepTimeoutMs ?? Math.min(STEP_TIMEOUT_MS, budgetMs) };
  const runs = steps.map(async (step, i) => {
    let outcome: StepOutcome;
    try {
      outcome = await runStep(step, ctx);
    } catch (err) {
      // A step must not throw; if one does, that is vigil's bug, reported as evidence.
      opts.log.error({ err, step: step.kind, source: step.source }, 'triage step threw');
      outcome = { source: step.source, ok: false, text: `vigil's ${step.kind} step failed internally`, headline: `${step.kind} failed internally` };
    }
    if (!controller.signal.aborted) outcomes[i] = { outcome, at: now() };
  });

  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  const aborted = new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    controller.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([Promise.all(runs), budget, aborted]);
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', stopOnAbort);
  const interrupted = opts.signal?.aborted === true;
  // Steps still running are cut off now; their late answers are ignored.
  controller.abort();

  const at = now();
  let unfinished = 0;
  const finished = steps.map((step, i): { outcome: StepOutcome; at: number } => {
    const done = outcomes[i];
    if (done) return done;
    unfinished += 1;
    const why = interrupted ? 'interrupted: vigil is shutting down' : `did not finish within ${Math.round(budgetMs / 1000)}s`;
    return { outcome: { source: step.source, ok: false, text: `${describe(step)} ${why}`, headline: `${describe(step)} ${why}` }, at };
  });
  const evidence = finished.map(({ outcome, at: when }) => ({ at: when, source: outcome.source, text: cut(maskSecrets(outcome.text), keepsEnd(outcome)) }));
  const failed = finished.filter((f) => !f.outcome.ok).length;
  return { evidence, summary: summarise(finished.map((f) => f.outcome)), failed, unfinished };
}

function describe(step: TriageStep): string {
  switch (step.kind) {
    case 'compose_ps':
      return `docker compose ps on ${step.host}`;
    case 'compose_logs':
      return `docker compose logs ${step.service} on ${step.host}`;
    case 'pg_connections':
      return `connection count of ${step.database}`;
    case 'pg_long_queries':
      return `long queries of ${step.database}`;
    case 'impact':
      return `impact_query of ${step.database}`;
    case 'disk':
      return `df -P on ${step.host}`;
    case 'redis':
      return `redis INFO of ${step.probe}`;
  }
}

/** Logs are read from the end (the newest lines matter); everything else from the start. */
function keepsEnd(outcome: StepOutcome): boolean {
  return outcome.ok && outcome.source.startsWith('logs:');
}

export function cut(text: string, fromEnd = false, max = MAX_EVIDENCE_CHARS): string {
  if (text.length <= max) return text;
  if (!fromEnd) {
    const at = text.lastIndexOf('\n', max - 2);
    return `${text.slice(0, at > max / 2 ? at : max - 2)}\n…`;
  }
  const start = text.indexOf('\n', text.length - max + 2);
  return `…\n${text.slice(start >= 0 && start < text.length - max / 2 ? start + 1 : text.length - max + 2)}`;
}

/** One line per step, failures first so a cut summary still shows what is broken; masked again. */
export function summarise(outcomes: readonly StepOutcome[]): string {
  const ordered = [...outcomes.filter((o) => !o.ok), ...outcomes.filter((o) => o.ok)];
  const lines: string[] = [];
  let length = 0;
  for (const o of ordered) {
    const line = maskSecrets(`${o.ok ? '·' : '✗'} ${o.headline}`);
    if (length + line.length + 1 > MAX_SUMMARY_CHARS) {
      lines.push(`… ${ordered.length - lines.length} more in the incident's evidence`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}
