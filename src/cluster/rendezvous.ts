// `mode: shard`: each probe runs on one live replica, chosen by rendezvous (highest random weight)
// hashing, so a replica that leaves moves only its own probes and one that joins takes a fair share.
import { createHash } from 'node:crypto';

function weight(member: string, probe: string): bigint {
  return createHash('sha256').update(member).update('\0').update(probe).digest().readBigUInt64BE(0);
}

/** The member that runs `probe`, or null when there is none. */
export function ownerOf(probe: string, members: readonly string[]): string | null {
  let best: string | null = null;
  let bestWeight = -1n;
  for (const m of members) {
    const w = weight(m, probe);
    if (w > bestWeight || (w === bestWeight && best !== null && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** The probes among `probes` that `member` runs when `members` share them. */
export function shareOf(member: string, probes: readonly string[], members: readonly string[]): string[] {
  const live = members.includes(member) ? members : [...members, member];
  return probes.filter((p) => ownerOf(p, live) === member);
}
