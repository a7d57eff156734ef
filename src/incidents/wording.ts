// The engine's human words: incident summaries for secondary findings and short timeline lines.
import type { ProbeMeta } from '../config/types.js';
import type { Finding } from '../types.js';

/** Timeline details stay one readable line; the full message lives on the event and incident. */
const DETAIL_MAX = 300;

/**
 * What an incident opened by this finding is called. The probe's main finding (key = probe id) uses
 * the probe's summary as written. A host finding is about the host, not the probe that noticed it.
 * Any other secondary finding names what it is about — the finding's service (`prod-ps:redis` →
 * "Containers unhealthy (redis)"), else the key's suffix (`web:latency` → "Webapp down (latency)") —
 * so two incidents from one probe never read alike. A finding the config names (a redis queue's
 * `summary`) uses those words.
 */
export function summaryFor(meta: ProbeMeta, finding: Pick<Finding, 'key' | 'service'>): string {
  const { key } = finding;
  if (key === meta.id) return meta.summary;
  const own = meta.summaries?.[key];
  if (own !== undefined) return own;
  if (key.startsWith('host:')) return `Host ${key.slice('host:'.length)} unreachable`;
  const prefix = `${meta.id}:`;
  const about = finding.service ?? (key.startsWith(prefix) ? key.slice(prefix.length) : key);
  return `${meta.summary} (${about})`;
}

export { formatDuration } from '../duration.js';

export function clip(text: string, max = DETAIL_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
