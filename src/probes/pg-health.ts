// The `pg_health` probe: transaction-ID wraparound, checksum failures, and deadlocks/conflicts rising between runs; pg_monitor reads suffice.
import type { PgHealthProbeConfig } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import type { Finding, Severity } from '../types.js';
import type { ProbeFn } from './contract.js';
import { oneMilder, runDbProbe, type DbProbe, type DbRun } from './pg-common.js';

export type PgHealthProbe = ResolvedProbe & { spec: PgHealthProbeConfig };

// pg_database and pg_stat_database are readable by every role; data_checksums is a preset setting.
// template0 takes no connections yet ages all the same, so every database of the server is read.
const SQL = `
SELECT
  current_setting('data_checksums') AS checksums,
  (SELECT coalesce(json_agg(a ORDER BY a.xid_age DESC, a.datname), '[]') FROM (
     SELECT datname, age(datfrozenxid)::bigint AS xid_age FROM pg_database) a) AS ages,
  (SELECT coalesce(json_agg(s ORDER BY s.datname NULLS FIRST), '[]') FROM (
     SELECT datname, coalesce(checksum_failures, 0)::bigint AS checksum_failures, checksum_last_failure,
            deadlocks::bigint AS deadlocks, conflicts::bigint AS conflicts
     FROM pg_stat_database) s) AS stats`;

interface Row {
  checksums: string;
  ages: Array<{ datname: string; xid_age: number }>;
  /** datname null: the row of shared catalogs. */
  stats: Array<{ datname: string | null; checksum_failures: number; checksum_last_failure: string | null; deadlocks: number; conflicts: number }>;
}

/** Counters of the previous run, per database, kept in the probe's memory. */
type Counters = Map<string, { deadlocks: number; conflicts: number }>;
const SHARED = '(shared catalogs)';

export const pgHealthProbe: ProbeFn<PgHealthProbe> = (probe, ctx) =>
  runDbProbe(probe as DbProbe, ctx, async (run) => {
    const { rows } = await ctx.transports.pg.query<Row>(run.database, SQL, [], run.call);
    const row = rows[0]!;
    const { spec } = probe;
    const sub = (suffix: string, f: Omit<Finding, 'key' | 'service'>): Finding => ({ ...run.finding(f), key: `${probe.id}:${suffix}` });
    const oldest = row.ages[0];
    const findings: Finding[] = [
      run.finding({ ok: true, message: `${run.target}: ${row.ages.length} databases read${oldest ? `, oldest transaction-ID age ${oldest.xid_age.toLocaleString('en-US')} (${oldest.datname})` : ''}` }),
    ];
    if (spec.wraparound !== false) findings.push(sub('wraparound', wraparound(probe, spec.wraparound, row, run)));
    if (spec.checksum_failures) findings.push(sub('checksums', checksums(probe, row, run)));
    const previous = ctx.memory?.get('counters') as Counters | undefined;
    const current: Counters = new Map(row.stats.map((s) => [s.datname ?? SHARED, { deadlocks: s.deadlocks, conflicts: s.conflicts }]));
    ctx.memory?.set('counters', current);
    const rising = [
      ['deadlocks', spec.deadlocks, 'deadlocks'],
      ['conflicts', spec.conflicts, 'recovery conflicts (queries cancelled on a standby)'],
    ] as const;
    for (const [counter, rule, words] of rising) {
      if (rule !== false) findings.push(sub(counter, risingCounter(probe, counter, words, rule.above, previous, current, ctx.memory !== undefined)));
    }
    return findings;
  });

function wraparound(probe: PgHealthProbe, rule: { warn: number; critical: number }, row: Row, run: DbRun): Omit<Finding, 'key' | 'service'> {
  const oldest = row.ages[0];
  if (!oldest) return { ok: true, message: `${run.target}: no databases to read` };
  const n = (x: number) => x.toLocaleString('en-US');
  const evidence = ['database · age(datfrozenxid)', ...row.ages.slice(0, 10).map((a) => `${a.datname} · ${n(a.xid_age)}`)].join('\n');
  const values = { xid_age: oldest.xid_age };
  const text = `transaction-ID age of ${oldest.datname} is ${n(oldest.xid_age)}`;
  // PostgreSQL stops taking writes about 2^31 transactions in; VACUUM (FREEZE) of the oldest tables brings the age down.
  const advice = 'VACUUM is not keeping up; PostgreSQL stops accepting writes near 2,147,483,648 (run VACUUM FREEZE, look for long transactions and stale replication slots)';
  if (oldest.xid_age >= rule.critical) {
    return { ok: false, severity: probe.severity, message: `data loss risk: ${text}, at or past critical ${n(rule.critical)}; ${advice}`, evidence, values };
  }
  if (oldest.xid_age >= rule.warn) {
    return { ok: false, severity: oneMilder(probe.severity), message: `wraparound approaching: ${text}, at or past warn ${n(rule.warn)}; ${advice}`, evidence, values };
  }
  return { ok: true, message: `${text} (warn ${n(rule.warn)})`, values };
}

function checksums(probe: PgHealthProbe, row: Row, run: DbRun): Omit<Finding, 'key' | 'service'> {
  if (row.checksums !== 'on') {
    return { ok: true, message: `data checksums are off on ${run.target}: corrupted pages are not detected (pg_checksums --enable turns them on)`, values: { checksum_failures: 0 } };
  }
  const failing = row.stats.filter((s) => s.checksum_failures > 0);
  const total = failing.reduce((sum, s) => sum + s.checksum_failures, 0);
  if (total === 0) return { ok: true, message: `no checksum failures on ${run.target}`, values: { checksum_failures: 0 } };
  const where = failing.map((s) => `${s.datname ?? SHARED}: ${s.checksum_failures}${s.checksum_last_failure ? `, last ${new Date(s.checksum_last_failure).toISOString()}` : ''}`);
  return {
    ok: false,
    severity: probe.severity,
    message: `database corruption: ${total} data page checksum ${total === 1 ? 'failure' : 'failures'} on ${run.target} (${where.join('; ')}); the count stays until reset with pg_stat_reset() after the repair`,
    evidence: ['database · checksum failures · last failure', ...failing.map((s) => `${s.datname ?? SHARED} · ${s.checksum_failures} · ${s.checksum_last_failure ?? '?'}`)].join('\n'),
    values: { checksum_failures: total },
  };
}

function risingCounter(
  probe: PgHealthProbe,
  counter: 'deadlocks' | 'conflicts',
  words: string,
  above: number,
  previous: Counters | undefined,
  current: Counters,
  remembers: boolean,
): Omit<Finding, 'key' | 'service'> {
  const total = [...current.values()].reduce((sum, c) => sum + c[counter], 0);
  if (!previous) {
    const why = remembers ? 'first run: counting from here' : 'a single run cannot see a rise';
    return { ok: true, message: `${total} ${words} since the statistics were reset (${why})`, values: { [counter]: 0 } };
  }
  // A counter that went down was reset (pg_stat_reset, a restart after a crash): that database starts again.
  const rises: Array<{ name: string; by: number }> = [];
  for (const [name, now] of current) {
    const before = previous.get(name)?.[counter] ?? 0;
    if (now[counter] > before) rises.push({ name, by: now[counter] - before });
  }
  const risen = rises.reduce((sum, r) => sum + r.by, 0);
  const values = { [counter]: risen };
  if (risen <= above) return { ok: true, message: `${risen} new ${words} since the last run${above > 0 ? ` (allowed ${above})` : ''}`, values };
  const severity: Severity = oneMilder(oneMilder(probe.severity));
  return {
    ok: false,
    severity,
    message: `${risen} new ${words} since the last run${above > 0 ? ` (allowed ${above})` : ''}: ${rises.map((r) => `${r.name} +${r.by}`).join(', ')}`,
    evidence: [`database · new ${counter} · total`, ...rises.map((r) => `${r.name} · ${r.by} · ${current.get(r.name)?.[counter] ?? '?'}`)].join('\n'),
    values,
  };
}
