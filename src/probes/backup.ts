// The `backup` probe: the newest object under a bucket prefix must be younger than the schedule's last due time plus grace, non-empty, not shrunk, and have its .md5 sidecar.
import type { BackupProbeConfig } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import { latestCronStart, MAX_CRON_WINDOW_MS } from '../cron.js';
import type { Metrics } from '../metrics.js';
import { listObjects, loadS3Sdk, S3Error, s3Where, type S3Object } from '../transport/s3.js';
import type { Finding } from '../types.js';
import type { ProbeFn } from './contract.js';
import { formatAge, formatLimit } from './pg-common.js';
import { formatBytes } from './redis.js';

export type BackupProbe = ResolvedProbe & { spec: BackupProbeConfig };

export const SIDECAR_SUFFIX = '.md5';

export interface BackupRules {
  schedule: string;
  graceMs: number;
  minSizeRatio: number;
  md5Sidecar: boolean;
}

export interface BackupJudgement {
  ok: boolean;
  message: string;
  evidence: string;
  values?: Record<string, number>;
}

/**
 * Judges a listing at `now`. The backup due at the schedule's latest time at or before now − grace
 * must be there: the newest object (sidecars aside) must be at least that recent. Every problem of
 * the newest one is named, each in its own words.
 */
export function judgeBackups(objects: readonly S3Object[], rules: BackupRules, where: string, now: number): BackupJudgement {
  const keys = new Set(objects.map((o) => o.key));
  const backups = objects
    .filter((o) => !o.key.endsWith(SIDECAR_SUFFIX))
    .sort((a, b) => b.lastModified - a.lastModified || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const due = latestCronStart(rules.schedule, now - rules.graceMs, MAX_CRON_WINDOW_MS);
  const dueText = due === null ? '' : `${iso(due)} (schedule "${rules.schedule}", grace ${formatLimit(rules.graceMs)})`;
  const newest = backups[0];
  if (!newest) {
    return { ok: false, message: `no backups under ${where}${due === null ? '' : `: one was due at ${dueText}`}`, evidence: `${objects.length} objects listed, none a backup` };
  }
  const previous = backups[1];
  const age = formatAge((now - newest.lastModified) / 1000);
  const about = `newest backup ${newest.key} is ${age} old, ${formatBytes(newest.size)}`;
  const problems: string[] = [];
  if (due !== null && newest.lastModified < due) problems.push(`the backup due at ${dueText} is missing`);
  if (newest.size === 0) problems.push('it is empty');
  else if (previous && previous.size > 0 && newest.size < rules.minSizeRatio * previous.size) {
    problems.push(`it is ${Math.round((newest.size / previous.size) * 100)}% of the one before (${previous.key}, ${formatBytes(previous.size)}), below min_size_ratio ${rules.minSizeRatio}`);
  }
  if (rules.md5Sidecar && !keys.has(`${newest.key}${SIDECAR_SUFFIX}`)) problems.push(`it has no ${SIDECAR_SUFFIX} sidecar (${newest.key}${SIDECAR_SUFFIX})`);
  const evidence = [
    `${backups.length} backups under ${where}; newest first:`,
    ...backups.slice(0, 5).map((b) => `  ${iso(b.lastModified)}  ${formatBytes(b.size).padStart(9)}  ${b.key}${rules.md5Sidecar && !keys.has(`${b.key}${SIDECAR_SUFFIX}`) ? '  (no .md5)' : ''}`),
    ...(due === null ? [] : [`last due: ${dueText}`]),
  ].join('\n');
  const values = { age_seconds: (now - newest.lastModified) / 1000, size_bytes: newest.size };
  if (problems.length > 0) return { ok: false, message: `${capitalise(about)}: ${problems.join('; ')}`, evidence, values };
  return { ok: true, message: capitalise(`${about}${rules.md5Sidecar ? `, with its ${SIDECAR_SUFFIX}` : ''}`), evidence, values };
}

export const backupProbe: ProbeFn<BackupProbe> = async (probe, ctx) => {
  const spec = probe.spec;
  const loc = {
    endpoint: probe.secrets?.endpoint ?? null,
    region: spec.region,
    accessKeyId: probe.secrets?.access_key_id ?? null,
    secretAccessKey: probe.secrets?.secret_access_key ?? null,
    bucket: spec.bucket,
    prefix: spec.prefix,
  };
  const where = s3Where(loc);
  let objects: S3Object[];
  try {
    objects = await listObjects(loc, { timeoutMs: probe.timeoutMs, signal: ctx.signal });
  } catch (err) {
    const message = err instanceof S3Error ? err.message : `listing ${where} failed unexpectedly`;
    if (!(err instanceof S3Error)) ctx.log.warn({ probe: probe.id, err: (err as Error)?.name }, message);
    return [{ key: probe.id, ok: false, message }];
  }
  const judged = judgeBackups(objects, { schedule: spec.schedule, graceMs: spec.grace, minSizeRatio: spec.min_size_ratio, md5Sidecar: spec.md5_sidecar }, where, ctx.now());
  return [{ key: probe.id, ok: judged.ok, message: judged.message, evidence: judged.evidence, ...(judged.values ? { values: judged.values } : {}) }];
};

/** Loads the S3 client ahead of the first run; a load that fails is tried again by that run, which reports it. */
export function prepareBackup(): void {
  loadS3Sdk().catch(() => undefined);
}

export function observeBackup(probe: ResolvedProbe, findings: Finding[], metrics: Metrics): void {
  const values = findings.find((f) => f.key === probe.id)?.values;
  const labels = { probe: probe.id };
  if (values?.age_seconds === undefined) metrics.backupAge.remove(labels);
  else metrics.backupAge.set(labels, values.age_seconds);
  if (values?.size_bytes === undefined) metrics.backupSize.remove(labels);
  else metrics.backupSize.set(labels, values.size_bytes);
}

function iso(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
