// The `redis` probe: PING with its latency, used_memory against maxmemory, and the length and trend of each named queue (Celery's lists).
import type { ResolvedProbe } from '../config/types.js';
import type { RedisProbeConfig } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { SshError } from '../transport/ssh.js';
import { isErrorReply, parseInfo, RedisError, redisTarget, scrubRedis, withRedis, type RedisSession, type RedisTarget } from '../transport/redis.js';
import type { Finding, Severity } from '../types.js';
import type { ProbeFn } from './contract.js';
import { formatAge } from './pg-common.js';
import { judgeQueue, QueueHistory } from './redis-queues.js';

export type RedisProbe = ResolvedProbe & { spec: RedisProbeConfig };

/** The probe type's memory of queue lengths across runs, keyed by probe id. */
export const queueHistory = new QueueHistory();

export function redisTargetOf(probe: ResolvedProbe & { spec: { via?: string | undefined } }): RedisTarget {
  return { url: probe.secrets?.url ?? null, via: probe.spec.via };
}

export const redisProbe: ProbeFn<RedisProbe> = async (probe, ctx) => {
  const target = redisTargetOf(probe);
  const where = redisTarget(target);
  const spec = probe.spec;
  try {
    const measured = await withRedis(target, ctx.transports.ssh, { timeoutMs: probe.timeoutMs, signal: ctx.signal }, (session) => measure(session, spec.queues.map((q) => q.key)));
    const findings: Finding[] = [];
    const info = measured.info;
    findings.push({
      key: probe.id,
      ok: true,
      message: `PONG from ${where} in ${Math.round(measured.pingMs)}ms`,
      ...(info ? { evidence: infoSummary(info) } : {}),
      values: { latency_seconds: measured.pingMs / 1000 },
    });
    if (spec.memory !== false) findings.push(memoryFinding(probe, info, measured.infoError));
    const now = ctx.now();
    const trends = queueHistory.observe(probe.id, measured.lengths, spec.queues.map((q) => q.key), now);
    for (const queue of spec.queues) {
      const key = `${probe.id}:queue:${queue.key}`;
      const failure = measured.queueErrors.get(queue.key);
      const trend = trends.get(queue.key);
      if (failure !== undefined || trend === undefined) {
        findings.push({ key, ok: false, severity: queue.severity ?? probe.severity, message: `queue "${queue.key}" cannot be read: ${failure ?? 'no answer'}` });
        continue;
      }
      const judged = judgeQueue(queue, trend, now, probe.severity);
      findings.push({ key, ok: judged.ok, ...(judged.ok ? {} : { severity: judged.severity }), message: judged.message, values: judged.values });
    }
    if (spec.via) findings.push(ctx.transports.ssh.hostFinding(spec.via, null));
    return findings;
  } catch (err) {
    // The tunnel could not be opened: the host failed, not Redis.
    if (err instanceof SshError && spec.via) return [ctx.transports.ssh.hostFinding(spec.via, err)];
    if (err instanceof RedisError) return [{ key: probe.id, ok: false, message: err.message }];
    const text = scrubRedis(target.url ?? '', err instanceof Error ? err.message : String(err));
    ctx.log.warn({ probe: probe.id, error: text }, 'redis probe failed unexpectedly');
    return [{ key: probe.id, ok: false, message: `redis probe of ${where} failed unexpectedly: ${text}` }];
  }
};

interface Measured {
  pingMs: number;
  info: Map<string, string> | null;
  infoError: string | null;
  lengths: Map<string, number>;
  queueErrors: Map<string, string>;
}

async function measure(session: RedisSession, queues: readonly string[]): Promise<Measured> {
  const started = performance.now();
  await session.ping();
  const pingMs = performance.now() - started;
  let info: Map<string, string> | null = null;
  let infoError: string | null = null;
  try {
    info = parseInfo(await session.info());
  } catch (err) {
    // A provider may rename or forbid INFO; PING and the queues still say something.
    if (!isErrorReply(err)) throw err;
    infoError = err.message;
  }
  const lengths = new Map<string, number>();
  const queueErrors = new Map<string, string>();
  for (const key of queues) {
    try {
      lengths.set(key, await session.llen(key));
    } catch (err) {
      // WRONGTYPE: the key is not a list; the other queues are still measured.
      if (!isErrorReply(err)) throw err;
      queueErrors.set(key, err.message);
    }
  }
  return { pingMs, info, infoError, lengths, queueErrors };
}

function oneLess(s: Severity): Severity {
  return s === 'S4' ? 'S4' : (`S${Number(s.slice(1)) + 1}` as Severity);
}

function memoryFinding(probe: RedisProbe, info: Map<string, string> | null, infoError: string | null): Finding {
  const key = `${probe.id}:memory`;
  if (info === null) return { key, ok: true, message: `memory not checked: INFO is refused (${infoError ?? 'no answer'})` };
  const used = Number(info.get('used_memory'));
  const max = Number(info.get('maxmemory') ?? '0');
  if (!Number.isFinite(used)) return { key, ok: true, message: 'memory not checked: INFO has no used_memory' };
  if (!Number.isFinite(max) || max <= 0) return { key, ok: true, message: `${formatBytes(used)} used, no maxmemory set: the memory ratio is not checked`, values: { used_bytes: used } };
  const memory = probe.spec.memory === false ? { warn: 1, critical: 1 } : probe.spec.memory;
  const thresholds = { warn: memory.warn, critical: memory.critical ?? 1 };
  const ratio = used / max;
  const policy = info.get('maxmemory_policy');
  const text = `${formatBytes(used)} of maxmemory ${formatBytes(max)} used (${Math.round(ratio * 100)}%${policy ? `, policy ${policy}` : ''})`;
  const values = { used_bytes: used, max_bytes: max, ratio };
  if (ratio >= thresholds.critical) return { key, ok: false, severity: probe.severity, message: `${text}: at or past critical ${Math.round(thresholds.critical * 100)}%`, values };
  if (ratio >= thresholds.warn) return { key, ok: false, severity: oneLess(probe.severity), message: `${text}: at or past warn ${Math.round(thresholds.warn * 100)}%`, values };
  return { key, ok: true, message: text, values };
}

/** The INFO lines an operator reads first: version, role, uptime, clients, memory, persistence. */
export function infoSummary(info: ReadonlyMap<string, string>): string {
  const get = (k: string) => info.get(k);
  const lines: string[] = [];
  const uptime = Number(get('uptime_in_seconds'));
  lines.push(`redis ${get('redis_version') ?? '?'} · role ${get('role') ?? '?'}${Number.isFinite(uptime) ? ` · up ${formatAge(uptime)}` : ''}`);
  lines.push(`clients ${get('connected_clients') ?? '?'} connected, ${get('blocked_clients') ?? '?'} blocked`);
  const max = Number(get('maxmemory') ?? '0');
  lines.push(`memory ${get('used_memory_human') ?? '?'} used, peak ${get('used_memory_peak_human') ?? '?'}, maxmemory ${max > 0 ? (get('maxmemory_human') ?? String(max)) : 'not set'}${get('maxmemory_policy') ? ` (${get('maxmemory_policy')})` : ''}`);
  if (get('evicted_keys') !== undefined) lines.push(`evicted keys ${get('evicted_keys')}, rejected connections ${get('rejected_connections') ?? '?'}`);
  if (get('rdb_last_bgsave_status') !== undefined) lines.push(`last save ${get('rdb_last_bgsave_status')}${get('aof_enabled') === '1' ? `, AOF last write ${get('aof_last_write_status') ?? '?'}` : ''}`);
  const keyspace = [...info.entries()].filter(([k]) => /^db\d+$/.test(k)).map(([k, v]) => `${k} ${v}`);
  if (keyspace.length > 0) lines.push(`keyspace ${keyspace.join(' · ')}`);
  return lines.join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`;
}

/** vigil_redis_queue_length{probe,queue}: the queues are named in the config, so the labels are bounded. */
export function observeRedis(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  const spec = probe.spec as RedisProbeConfig;
  for (const queue of spec.queues) {
    const length = findings.find((f) => f.key === `${probe.id}:queue:${queue.key}`)?.values?.length;
    const labels = { probe: probe.id, queue: queue.key };
    // A stale number would lie on a dashboard while Redis cannot be read.
    if (length === undefined) metrics.redisQueueLength.remove(labels);
    else metrics.redisQueueLength.set(labels, length);
  }
}
