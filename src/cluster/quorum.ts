// Many replicas, one verdict: a probe's failure counts once `quorum` of the replicas that ran it lately
// agree, so one replica cut off from the fleet pages nobody. Pure functions of the results and the clock.
import type { Finding } from '../types.js';

export type Quorum = 1 | 'majority' | 'all';

/** One replica's latest run of one probe. */
export interface ReplicaResult {
  replica: string;
  probe: string;
  /** When the run started, ms since epoch. */
  at: number;
  findings: Finding[];
}

/** How many of `voters` replicas must see a failure for it to count. */
export function required(quorum: Quorum, voters: number): number {
  if (voters <= 0) return 1;
  if (quorum === 1) return 1;
  if (quorum === 'all') return voters;
  return Math.floor(voters / 2) + 1;
}

/** The results of one probe recent enough to vote: run at or after `now - windowMs`, the latest per replica. */
export function voters(results: readonly ReplicaResult[], now: number, windowMs: number): ReplicaResult[] {
  const latest = new Map<string, ReplicaResult>();
  for (const r of results) {
    if (r.at < now - windowMs || r.at > now + windowMs) continue;
    const seen = latest.get(r.replica);
    if (!seen || seen.at < r.at) latest.set(r.replica, r);
  }
  return [...latest.values()].sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0));
}

export interface Merged {
  findings: Finding[];
  /** Replicas whose results voted. */
  voters: number;
}

/**
 * The findings of one probe as the engine should see them. A finding fails when at least
 * `required(quorum, n)` of the n voting replicas report it failing; otherwise it passes. Keys a
 * replica did not report count as passing for it (a healthy run often has fewer findings).
 * `prefer` names the replica whose wording is kept when several agree (the leader's own).
 */
export function mergeFindings(results: readonly ReplicaResult[], opts: { now: number; windowMs: number; quorum: Quorum; prefer?: string }): Merged {
  const voting = voters(results, opts.now, opts.windowMs);
  if (opts.prefer !== undefined) {
    const i = voting.findIndex((r) => r.replica === opts.prefer);
    if (i > 0) voting.unshift(...voting.splice(i, 1));
  }
  const need = required(opts.quorum, voting.length);
  const keys: string[] = [];
  const failing = new Map<string, Finding[]>();
  const passing = new Map<string, Finding>();
  for (const r of voting) {
    for (const f of r.findings) {
      if (!failing.has(f.key)) {
        failing.set(f.key, []);
        keys.push(f.key);
      }
      if (!f.ok) failing.get(f.key)!.push(f);
      else if (!passing.has(f.key)) passing.set(f.key, f);
    }
  }
  const findings = keys.map((key): Finding => {
    const bad = failing.get(key)!;
    if (bad.length >= need) return bad[0]!;
    const good = passing.get(key);
    if (good) return good;
    // Only some replicas reported it, all failing, too few to count: it passes, in the failing words.
    const { evidence: _evidence, ...rest } = bad[0]!;
    return { ...rest, ok: true, message: `${bad[0]!.message} (seen by ${bad.length} of ${voting.length} replicas: below the quorum)` };
  });
  return { findings, voters: voting.length };
}

/**
 * Replicas cut off from the fleet: every probe they ran lately failed while, for each of those
 * probes, the replicas together (by quorum) saw it pass, and another replica was passing it while
 * this one was failing it: that replica's passing streak and this one's failing streak overlap (see
 * streaks(); without them, each streak is taken to start at its latest run). At least `minProbes`
 * probes must back the verdict, and another replica must have voted on each, so a small or lone
 * view says nothing.
 */
export function cutOffReplicas(
  results: readonly ReplicaResult[],
  opts: { now: number; windowMs: number; quorum: Quorum; minProbes?: number; streaks?: ReadonlyMap<string, Streak> },
): string[] {
  const byProbe = new Map<string, ReplicaResult[]>();
  for (const r of results) {
    const list = byProbe.get(r.probe);
    if (list) list.push(r);
    else byProbe.set(r.probe, [r]);
  }
  const seen = new Map<string, { probes: number; contradicted: number }>();
  for (const list of byProbe.values()) {
    const voting = voters(list, opts.now, opts.windowMs);
    if (voting.length < 2) continue;
    const merged = mergeFindings(voting, opts);
    const fleetOk = merged.findings.every((f) => f.ok);
    for (const r of voting) {
      const tally = seen.get(r.replica) ?? { probes: 0, contradicted: 0 };
      tally.probes++;
      // Contradicted only by a replica that was passing the probe while this one was failing it. The
      // first replica to see a real outage is not cut off while the others have not run the probe
      // again (their passes are older than its failing streak); the last to rerun after an outage of
      // the whole fleet is not either (the others' passes are newer than its last failure). Streaks,
      // not latest runs: replicas probing every interval at their own phase would otherwise overlap
      // only when the judgement fell between their runs and its next.
      if (fleetOk && failed(r)) {
        const failingSince = streakStart(opts.streaks, r, true);
        if (voting.some((o) => o !== r && !failed(o) && o.at >= failingSince && streakStart(opts.streaks, o, false) <= r.at)) tally.contradicted++;
      }
      seen.set(r.replica, tally);
    }
  }
  const min = opts.minProbes ?? 2;
  return [...seen.entries()]
    .filter(([, t]) => t.probes >= min && t.contradicted === t.probes)
    .map(([name]) => name)
    .sort();
}

const failed = (r: ReplicaResult): boolean => r.findings.some((f) => !f.ok);
const streakKey = (r: Pick<ReplicaResult, 'replica' | 'probe'>): string => `${r.replica}\u0000${r.probe}`;

/** A replica's current streak on a probe: failing or passing, since its first run seen so. */
export interface Streak {
  failing: boolean;
  since: number;
}

/** When `r`'s current streak began, if the leader saw it begin; else its latest run. */
function streakStart(streaks: ReadonlyMap<string, Streak> | undefined, r: ReplicaResult, failing: boolean): number {
  const streak = streaks?.get(streakKey(r));
  return streak && streak.failing === failing ? streak.since : r.at;
}

/**
 * Since when each replica has failed, or passed, each probe as it does now, for cutOffReplicas(): the
 * results keep only a replica's latest run, so the leader carries the start of each streak from one
 * look to the next. A streak starts at the first run seen with its outcome and ends with the other.
 */
export function streaks(previous: ReadonlyMap<string, Streak>, results: readonly ReplicaResult[]): Map<string, Streak> {
  const next = new Map<string, Streak>();
  for (const r of results) {
    const key = streakKey(r);
    const failing = failed(r);
    const before = previous.get(key);
    next.set(key, before && before.failing === failing && before.since <= r.at ? before : { failing, since: r.at });
  }
  return next;
}
