// Runs one triage step (compose ps, compose logs, connections, long queries, impact_query) through the probes' own code.
import type { Logger } from 'pino';
import { probeSchema } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import { commandFailure, composeCommand, excerpt } from '../probes/compose-command.js';
import { logText } from '../probes/compose-logs.js';
import { parseDf, pct, usedShare } from '../probes/host.js';
import { type Container, containerTable, parseComposePs } from '../probes/compose-ps.js';
import { maskSecrets } from '../probes/mask-secrets.js';
import { pgConnectionsProbe, type PgConnectionsProbe } from '../probes/pg-connections.js';
import { pgLongQueriesProbe, type PgLongQueriesProbe } from '../probes/pg-long-queries.js';
import { readNumber } from '../probes/pg-query.js';
import { infoSummary } from '../probes/redis.js';
import { shellQuote } from '../probes/shell-quote.js';
import { parseInfo, redisTarget, scrubRedis, withRedis } from '../transport/redis.js';
import type { Transports } from '../transport/index.js';
import { scrub } from '../transport/pg.js';
import type { Finding } from '../types.js';
import type { ProbeContext } from '../probes/contract.js';
import { LOG_TAIL_LINES, type TriageStep } from './plan.js';

/** What one step found: the evidence text and the one line the first message carries. */
export interface StepOutcome {
  source: string;
  ok: boolean;
  /** What an operator would have seen running the step by hand, secrets masked. */
  text: string;
  /** One line for the triage summary. */
  headline: string;
}

export interface StepContext {
  transports: Transports;
  log: Logger;
  now: () => number;
  signal: AbortSignal;
  timeoutMs: number;
}

// `ps` of a whole project is a few KiB; 50 log lines of a chatty service rarely pass 100 KiB.
const PS_MAX_BYTES = 256 * 1024;
const LOGS_MAX_BYTES = 512 * 1024;
const MAX_LOG_LINE = 500;
const HEADLINE_CHARS = 160;

export async function runStep(step: TriageStep, ctx: StepContext): Promise<StepOutcome> {
  switch (step.kind) {
    case 'compose_ps':
      return composePs(step, ctx);
    case 'compose_logs':
      return composeLogs(step, ctx);
    case 'pg_connections':
    case 'pg_long_queries':
      return databaseProbe(step, ctx);
    case 'impact':
      return impact(step, ctx);
    case 'disk':
      return disk(step, ctx);
    case 'redis':
      return redisInfo(step, ctx);
  }
}

/** The runbook has no disk step; `df -P` is what an operator runs next when a host or its database fails. */
async function disk(step: Extract<TriageStep, { kind: 'disk' }>, ctx: StepContext): Promise<StepOutcome> {
  const result = await exec(step.host, 'LC_ALL=C df -P', 'df -P', PS_MAX_BYTES, step.source, ctx);
  if ('source' in result) return result;
  const text = excerpt(maskSecrets(result.stdout.trim()));
  const mounts = parseDf(result.stdout, []);
  const fullest = [...mounts].sort((a, b) => usedShare(b) - usedShare(a)).slice(0, 2);
  const headline = fullest.length === 0 ? `disk ${step.host}: no mounts read` : `disk ${step.host}: ${fullest.map((m) => `${m.mount} ${pct(usedShare(m))}`).join(', ')}`;
  return { source: step.source, ok: mounts.length > 0, text, headline: oneLineCut(maskSecrets(headline)) };
}

function probeContext(ctx: StepContext): ProbeContext {
  return { signal: ctx.signal, log: ctx.log, now: ctx.now, transports: ctx.transports };
}

/** A failed step is evidence too: the error is what the operator needs to read. */
function failed(source: string, headline: string, detail?: string): StepOutcome {
  const text = detail ? `${headline}\n${detail}` : headline;
  return { source, ok: false, text, headline: oneLineCut(headline) };
}

async function exec(host: string, command: string, what: string, maxBytes: number, source: string, ctx: StepContext) {
  try {
    const result = await ctx.transports.ssh.exec(host, command, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes });
    const failure = commandFailure(result, what, host, ctx.timeoutMs);
    return failure ? failed(source, failure.message, failure.evidence) : result;
  } catch (err) {
    // SshError (unreachable, auth, lost connection) carries an operator's message without secrets.
    return failed(source, `${what} on ${host} could not run: ${maskSecrets((err as Error)?.message ?? String(err))}`);
  }
}

async function composePs(step: Extract<TriageStep, { kind: 'compose_ps' }>, ctx: StepContext): Promise<StepOutcome> {
  const command = `${composeCommand(probeContext(ctx), step.host)} ps --all --format json`;
  const result = await exec(step.host, command, 'docker compose ps', PS_MAX_BYTES, step.source, ctx);
  if ('source' in result) return result;
  let containers: Container[];
  try {
    containers = parseComposePs(result.stdout);
  } catch (err) {
    return failed(step.source, `output of docker compose ps on ${step.host} is not JSON (${(err as Error).message})`, excerpt(maskSecrets(result.stdout)));
  }
  const down = containers.filter((c) => c.state !== 'running' || c.health === 'unhealthy');
  const state = (c: Container) => (c.health === 'unhealthy' ? 'unhealthy' : `${c.state}${c.exitCode !== null && c.exitCode !== 0 ? ` (exit ${c.exitCode})` : ''}`);
  const headline =
    containers.length === 0
      ? `no containers on ${step.host}`
      : down.length === 0
        ? `${containers.length} containers on ${step.host}, all running`
        : `${containers.length} containers on ${step.host}; ${down.map((c) => `${c.service} ${state(c)}`).join(', ')}`;
  return { source: step.source, ok: true, text: containerTable(containers), headline: oneLineCut(maskSecrets(headline)) };
}

async function composeLogs(step: Extract<TriageStep, { kind: 'compose_logs' }>, ctx: StepContext): Promise<StepOutcome> {
  const command = `${composeCommand(probeContext(ctx), step.host)} logs --no-color --timestamps --tail ${LOG_TAIL_LINES} ${shellQuote(step.service)}`;
  const result = await exec(step.host, command, `docker compose logs ${step.service}`, LOGS_MAX_BYTES, step.source, ctx);
  if ('source' in result) return result;
  const lines = result.stdout
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
    .slice(-LOG_TAIL_LINES)
    .map((l) => maskSecrets(l.length > MAX_LOG_LINE ? `${l.slice(0, MAX_LOG_LINE)}…` : l));
  if (lines.length === 0) return { source: step.source, ok: true, text: `(no log lines for ${step.service})`, headline: `${step.service}: no log lines` };
  const last = logText(lines[lines.length - 1]!);
  return { source: step.source, ok: true, text: lines.join('\n'), headline: oneLineCut(`${step.service} last line: ${last}`) };
}

/** The pg_connections / pg_long_queries probe itself, run once against the database. */
async function databaseProbe(step: Extract<TriageStep, { kind: 'pg_connections' | 'pg_long_queries' }>, ctx: StepContext): Promise<StepOutcome> {
  const raw = step.kind === 'pg_long_queries' ? { type: 'pg_long_queries', older_than: `${step.olderThanMs}ms` } : { type: 'pg_connections' };
  const probe = syntheticProbe({ id: 'triage', database: step.database, ...raw }, step.database, ctx);
  const findings =
    step.kind === 'pg_connections'
      ? await pgConnectionsProbe(probe as PgConnectionsProbe, probeContext(ctx))
      : await pgLongQueriesProbe(probe as PgLongQueriesProbe, probeContext(ctx));
  // A probe never throws; its main finding says it all, unless the tunnel host failed first.
  const main: Finding | undefined = findings.find((f) => f.key === probe.id && !f.ok) ?? findings.find((f) => !f.ok) ?? findings.find((f) => f.key === probe.id);
  if (!main) return failed(step.source, `${step.kind} on ${step.database} gave no result`);
  const what = step.kind === 'pg_connections' ? 'connections' : 'long queries';
  const failedToMeasure = main.values === undefined;
  const text = main.evidence ? `${main.message}\n${main.evidence}` : main.message;
  return { source: step.source, ok: !failedToMeasure, text, headline: oneLineCut(`${what} ${step.database}: ${main.message}`) };
}

async function impact(step: Extract<TriageStep, { kind: 'impact' }>, ctx: StepContext): Promise<StepOutcome> {
  // A failure is filed apart from `impact:<db>`, whose first number the review reads as users affected.
  const failedSource = `impact-failed:${step.database}`;
  const db = ctx.transports.pg.database(step.database) ?? { url: null };
  try {
    const result = await ctx.transports.pg.query(step.database, step.sql, [], { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    const read = readNumber(result.rows, result.fields.map((f) => f.name));
    if ('problem' in read) return failed(failedSource, `impact_query of ${step.database} ${read.problem}; expected one row with one number`);
    const users = `${read.value} users affected`;
    return { source: step.source, ok: true, text: `${users} (impact_query of ${step.database})`, headline: `impact: ${users}` };
  } catch (err) {
    return failed(failedSource, `impact_query of ${step.database} failed: ${scrub(db, (err as Error)?.message ?? String(err))}`);
  }
}

/** INFO and the length of each queue of a redis probe: what `redis-cli INFO` and `LLEN` would show. */
async function redisInfo(step: Extract<TriageStep, { kind: 'redis' }>, ctx: StepContext): Promise<StepOutcome> {
  const target = step.target;
  try {
    return await withRedis(target, ctx.transports.ssh, { timeoutMs: ctx.timeoutMs, signal: ctx.signal }, async (session) => {
      const info = parseInfo(await session.info());
      const queues: string[] = [];
      for (const key of step.queues) {
        const length = await session.llen(key).then(String, (err: Error) => `unreadable (${err.message})`);
        queues.push(`${key} ${length}`);
      }
      const text = [infoSummary(info), ...(queues.length > 0 ? [`queues: ${queues.join(' · ')}`] : [])].join('\n');
      const memory = `${info.get('used_memory_human') ?? '?'} used`;
      return { source: step.source, ok: true, text, headline: oneLineCut(`redis ${step.probe}: ${queues.length > 0 ? `${queues.join(', ')}; ` : ''}${memory}`) };
    });
  } catch (err) {
    return failed(step.source, `redis INFO of ${redisTarget(target)} failed: ${scrubRedis(target.url ?? '', (err as Error)?.message ?? String(err))}`);
  }
}

/** A probe as the loader would resolve it, so the probe's own code runs exactly as scheduled. */
function syntheticProbe(raw: Record<string, unknown>, database: string, ctx: StepContext): ResolvedProbe {
  const spec = probeSchema.parse(raw);
  const db = ctx.transports.pg.database(database);
  return {
    id: spec.id,
    type: spec.type,
    environment: db?.environment ?? '',
    service: db?.service ?? 'db',
    severity: 'S4',
    summary: 'triage',
    intervalMs: 0,
    schedule: null,
    timeoutMs: ctx.timeoutMs,
    failureThreshold: 1,
    successThreshold: 1,
    dependsOn: [],
    implicitDeps: [],
    enabled: true,
    escalate: [],
    spec,
    headers: {},
  };
}

/** What `docker compose ps` shows by hand, trimmed to the columns that matter at 3 a.m. */

function oneLineCut(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= HEADLINE_CHARS ? line : `${line.slice(0, HEADLINE_CHARS - 1)}…`;
}
