// The `push` probe: judges the last heartbeat a job sent to POST /api/push/{id} against its period or cron schedule plus grace.
import type { PushProbeConfig } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import { latestCronStart } from '../cron.js';
import type { Finding, PushState } from '../types.js';
import type { ProbeFn } from './contract.js';
import { formatAge, formatLimit } from './pg-common.js';

export type PushProbe = ResolvedProbe & { spec: PushProbeConfig };

/** How far back a cron schedule's last due time is looked for; a job due less often than this is never late. */
const CRON_LOOKBACK_MS = 31 * 86_400_000;

/**
 * Late when no heartbeat came since the time it was due, once grace has passed: with `period`, the
 * last heartbeat (or, before the first, the moment vigil began expecting one) plus period plus grace;
 * with `schedule`, a due time of the cron at least `grace` ago that no heartbeat followed. A heartbeat
 * with status=fail fails at once and stays failed until an ok one arrives. Never throws.
 */
export const pushProbe: ProbeFn<PushProbe> = async (probe, ctx) => {
  const key = probe.id;
  const state = ctx.pushes?.pushState(probe.id) ?? null;
  if (!state) {
    // `vigil check` without a store file, or a probe the daemon has not registered yet.
    return [{ key, ok: true, message: `no heartbeat recorded for ${probe.id} yet; vigil run receives them on POST /api/push/${probe.id}` }];
  }
  return [judgePush(probe, state, ctx.now())];
};

export function judgePush(probe: PushProbe, state: PushState, now: number): Finding {
  const { spec } = probe;
  const key = probe.id;
  const { last } = state;
  const ago = (at: number) => formatAge((now - at) / 1000);
  const expectation = spec.period !== undefined ? `expected every ${formatLimit(spec.period)}, grace ${formatLimit(spec.grace)}` : `schedule "${spec.schedule}", grace ${formatLimit(spec.grace)}`;
  const values: Record<string, number> = last ? { age_seconds: Math.max(0, (now - last.at) / 1000) } : {};
  if (last && !last.ok) {
    const said = last.message ? `: ${last.message}` : ' (no message)';
    return { key, ok: false, message: `the job reported failure ${ago(last.at)} ago${said}`, values };
  }
  const since = last?.at ?? state.watchingSince;
  const lastText = last ? `last heartbeat ${ago(last.at)} ago` : `no heartbeat since vigil began expecting one ${ago(state.watchingSince)} ago`;
  if (spec.period !== undefined) {
    const lateAt = since + spec.period + spec.grace;
    if (now > lateAt) return { key, ok: false, message: `heartbeat late: ${lastText} (${expectation})`, values };
    return { key, ok: true, message: `${lastText} (${expectation})`, values };
  }
  // A due time counts once its grace is over; the heartbeat for it must have come at or after it.
  const due = latestCronStart(spec.schedule ?? '', now - spec.grace, CRON_LOOKBACK_MS);
  if (due !== null && since < due) {
    const dueText = new Date(due).toISOString().replace(/:00\.000Z$/, 'Z');
    return { key, ok: false, message: `heartbeat late: none since the run due at ${dueText} (${expectation}); ${lastText}`, values };
  }
  return { key, ok: true, message: `${lastText} (${expectation})`, values };
}
