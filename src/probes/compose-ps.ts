// The `compose_ps` probe: `docker compose ps` over the host's SSH connection, one finding per listed service.
import type { ResolvedProbe } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import { SshError } from '../transport/ssh.js';
import type { Finding } from '../types.js';
import type { ProbeContext, ProbeFn } from './contract.js';
import { type CommandFailure, commandFailure, composeCommand, excerpt } from './compose-command.js';
import { maskSecrets } from './mask-secrets.js';

type ComposePsSpec = Extract<ResolvedProbe['spec'], { type: 'compose_ps' }>;
export type ComposePsProbe = ResolvedProbe & { spec: ComposePsSpec };

/** One container as `docker compose ps --format json` describes it (fields vigil reads). */
export interface Container {
  name: string;
  service: string;
  state: string;
  status: string;
  health: string;
  exitCode: number | null;
}

export class ComposeOutputError extends Error {
  readonly code = 'VIGIL_ERR_COMPOSE_OUTPUT';
}

export const composePsProbe: ProbeFn<ComposePsProbe> = async (probe, ctx) => {
  const { spec } = probe;
  const host = spec.host;
  let result;
  try {
    const command = `${composeCommand(ctx, spec.host)} ps --all --format json`;
    result = await ctx.transports.ssh.exec(spec.host, command, { timeoutMs: probe.timeoutMs, signal: ctx.signal });
  } catch (err) {
    if (err instanceof SshError) return [ctx.transports.ssh.hostFinding(spec.host, err)];
    return [{ key: probe.id, ok: false, message: `docker compose ps on ${host} could not run: ${(err as Error).message}` }];
  }
  const findings: Finding[] = [ctx.transports.ssh.hostFinding(spec.host, null)];
  const failure: CommandFailure | null = commandFailure(result, 'docker compose ps', host, probe.timeoutMs);
  if (failure) return [...findings, { key: probe.id, ok: false, message: failure.message, ...(failure.evidence ? { evidence: failure.evidence } : {}) }];
  let containers: Container[];
  try {
    containers = parseComposePs(result.stdout);
  } catch (err) {
    const message = `output of docker compose ps on ${host} is not JSON (${(err as Error).message})`;
    return [...findings, { key: probe.id, ok: false, message, evidence: excerpt(maskSecrets(result.stdout)) }];
  }
  const evidence = containerTable(containers);
  findings.push({ key: probe.id, ok: true, message: `docker compose ps on ${host} listed ${containers.length} container${containers.length === 1 ? '' : 's'}` });
  for (const [service, severity] of Object.entries(spec.services)) {
    const verdict = judge(containers.filter((c) => c.service === service));
    const finding: Finding = { key: `${probe.id}:${service}`, ok: verdict.ok, severity, service, message: `${service} on ${host}: ${verdict.message}`, values: { up: verdict.ok ? 1 : 0 } };
    if (!verdict.ok) finding.evidence = evidence;
    findings.push(finding);
  }
  return findings;
};

/** vigil_container_up{host,service} from the per-service findings of a run that reached the host. */
export function observeComposePs(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  if (probe.spec.type !== 'compose_ps') return;
  for (const f of findings) {
    const up = f.values?.up;
    if (f.service !== undefined && up !== undefined) metrics.containerUp.set({ host: probe.spec.host, service: f.service }, up);
  }
}

/**
 * Compose ≥ 2.21 prints one JSON object per line, older versions one JSON array; no output at all
 * means no containers. Throws ComposeOutputError for anything else.
 */
export function parseComposePs(stdout: string): Container[] {
  const text = stdout.trim();
  if (text === '') return [];
  let items: unknown[];
  if (text.startsWith('[')) {
    const parsed = parseJson(text, 'the output');
    if (!Array.isArray(parsed)) throw new ComposeOutputError('expected a JSON array');
    items = parsed;
  } else {
    items = text.split('\n').filter((line) => line.trim() !== '').map((line, i) => parseJson(line, `line ${i + 1}`));
  }
  return items.map((item, i) => toContainer(item, i));
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ComposeOutputError(`${where} does not parse as JSON`);
  }
}

function toContainer(item: unknown, i: number): Container {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ComposeOutputError(`entry ${i + 1} is not a JSON object`);
  const o = item as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  if (typeof o.Service !== 'string' || typeof o.State !== 'string') throw new ComposeOutputError(`entry ${i + 1} has no "Service" and "State"`);
  return {
    name: text(o.Name),
    service: o.Service,
    state: o.State.toLowerCase(),
    status: text(o.Status),
    health: text(o.Health).toLowerCase(),
    exitCode: typeof o.ExitCode === 'number' ? o.ExitCode : null,
  };
}

/** The worst of a service's containers (a scaled service has several): restarting, not running, unhealthy. */
function judge(containers: Container[]): { ok: boolean; message: string } {
  if (containers.length === 0) return { ok: false, message: 'missing: no container for this service in docker compose ps' };
  const restarting = containers.find((c) => c.state === 'restarting');
  if (restarting) return { ok: false, message: `restarting${exitCode(restarting)} (${describeStatus(restarting)})` };
  const stopped = containers.find((c) => c.state !== 'running');
  if (stopped) return { ok: false, message: `not running: ${stopped.state}${exitCode(stopped)} (${describeStatus(stopped)})` };
  const unhealthy = containers.find((c) => c.health === 'unhealthy');
  if (unhealthy) return { ok: false, message: `unhealthy (${describeStatus(unhealthy)})` };
  const health = containers.every((c) => c.health === 'healthy') ? ', healthy' : containers.some((c) => c.health === 'starting') ? ', health check starting' : '';
  const count = containers.length > 1 ? `${containers.length} containers ` : '';
  return { ok: true, message: `${count}running${health}` };
}

function exitCode(c: Container): string {
  return c.exitCode !== null && (c.state !== 'running' || c.exitCode !== 0) ? `, exit code ${c.exitCode}` : '';
}

function describeStatus(c: Container): string {
  return `${c.name || c.service}: ${c.status || c.state}`;
}

/** What an operator would have seen running `docker compose ps` by hand, trimmed to the columns that matter. */
/** The containers as an aligned table (the probe's and triage's evidence), secrets masked. */
export function containerTable(containers: Container[]): string {
  if (containers.length === 0) return '(docker compose ps listed no containers)';
  const rows = containers.map((c) => [c.name, c.service, c.state, c.health || '-', c.status]);
  const header = ['NAME', 'SERVICE', 'STATE', 'HEALTH', 'STATUS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return maskSecrets([line(header), ...rows.map(line)].join('\n'));
}
