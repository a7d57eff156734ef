// `vigil check`: runs every probe once now, no thresholds, and prints the triage report.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import type { Config, ResolvedProbe } from '../config/types.js';
import { classify } from '../incidents/classify.js';
import { createLogger, type Logger } from '../log.js';
import { isRunnable, runProbe } from '../probes/index.js';
import { createTransports, type Transports } from '../transport/index.js';
import type { ProbeRun } from '../types.js';
import type { PushBook } from '../probes/contract.js';
import { type CheckReport, type CheckResult, exitCodeFor, formatReport, reportJson, worstOf } from './check-report.js';
import { EXIT_CONFIG, loadOrReport, openExistingStore } from './config.js';

export interface CheckOptions {
  json: boolean;
  only: string[];
}

export async function checkCommand(path: string, opts: CheckOptions): Promise<number> {
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const unknown = opts.only.filter((id) => !config.probes.some((p) => p.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`vigil check: no probe with id ${unknown.map((u) => `"${u}"`).join(', ')} in ${path}\n`);
    return EXIT_CONFIG;
  }
  const tty = Boolean(process.stderr.isTTY) && !opts.json;
  const report = await runChecks(config, opts.only, tty ? (done, total, id) => progress(done, total, id) : undefined);
  if (tty) process.stderr.write('\r\u001b[2K');
  process.stdout.write(opts.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatReport(report, { color: Boolean(process.stdout.isTTY) }));
  return report.exitCode;
}

function progress(done: number, total: number, id: string): void {
  process.stderr.write(`\r\u001b[2Kchecking ${done}/${total} · ${id}`);
}

/** Runs the chosen probes with the config's concurrency cap and per-probe timeouts. */
export async function runChecks(
  config: Config,
  only: string[],
  onProgress?: (done: number, total: number, id: string) => void,
): Promise<CheckReport> {
  // stdout carries the report (maybe JSON); diagnostics, if asked for, go to stderr.
  const log = createLogger({ level: process.env.VIGIL_LOG_LEVEL ?? 'silent', destination: pino.destination({ dest: 2, sync: true }) });
  const probes = config.probes.filter((p) => (only.length > 0 ? only.includes(p.id) : p.enabled));
  const transports = createTransports(config, log);
  // Heartbeats live in the daemon's store: read them there when a push probe is checked and the store exists.
  const pushes = probes.some((p) => p.type === 'push') ? openExistingStore(config, new PassThrough()) : null;
  const results: CheckResult[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < probes.length) {
      const probe = probes[next++]!;
      results.push(...(await checkOne(config, probe, log, transports, pushes)));
      onProgress?.(++done, probes.length, probe.id);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(config.defaults.concurrency, probes.length) }, worker));
  } finally {
    await transports.close();
    pushes?.close();
  }
  const worst = worstOf(results);
  return { config: config.file, checkedAt: new Date().toISOString(), results, worst, exitCode: exitCodeFor(worst) };
}

async function checkOne(config: Config, probe: ResolvedProbe, log: Logger, transports: Transports, pushes: PushBook | null): Promise<CheckResult[]> {
  const base = { probe: probe.id, type: probe.type, environment: probe.environment, service: probe.service };
  if (!isRunnable(probe.type)) {
    return [{ ...base, key: probe.id, ok: true, severity: null, message: `probe type "${probe.type}" is not available in this version`, evidence: null, durationMs: 0, skipped: true }];
  }
  const run: ProbeRun = await runProbe(probe, AbortSignal.timeout(probe.timeoutMs), log, transports, Date.now, pushes ? { pushes } : {});
  const env = config.environments[probe.environment];
  return run.findings.map((f) => ({
    ...base,
    service: f.service ?? probe.service,
    key: f.key,
    ok: f.ok,
    severity: f.ok ? null : classify(probe, f, env, 0),
    message: f.message,
    evidence: f.ok ? null : (f.evidence ?? null),
    durationMs: run.durationMs,
    skipped: false,
    cause: f.ok ? null : causeOf(probe, f.key),
  }));
}

/** The shared thing a failure is about: the SSH host it could not reach, or the database it could not read. */
function causeOf(probe: ResolvedProbe, key: string): string | null {
  if (key.startsWith('host:')) return key;
  const database = (probe.spec as { database?: unknown }).database;
  return typeof database === 'string' ? `database:${database}` : null;
}
