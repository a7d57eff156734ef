// Judging a push probe's last heartbeat with a fake clock: period and cron schedules, grace, failed pings, the first heartbeat.
import t from 'tap';
import { probeSchema } from '../../src/config/schema.js';
import { judgePush, pushProbe, type PushProbe } from '../../src/probes/push.js';
import { cleanPushMessage, MAX_PUSH_MESSAGE, sameToken } from '../../src/server/routes/push.js';
import type { PushState } from '../../src/types.js';
import { matchExactly } from '../helpers/match.js';

const at = (iso: string) => Date.parse(iso);

function probe(raw: Record<string, unknown>): PushProbe {
  const spec = probeSchema.parse({ id: 'backup', type: 'push', environment: 'production', token_env: 'T', ...raw });
  if (spec.type !== 'push') throw new Error('not a push probe');
  return {
    id: 'backup', type: 'push', environment: 'production', service: 'backup', severity: 'S2', summary: 'Backup missing', intervalMs: 30_000, schedule: null,
    timeoutMs: 5_000, failureThreshold: 1, successThreshold: 1, dependsOn: [], implicitDeps: [], enabled: true, escalate: [], spec, headers: {}, secrets: { token: 'x' },
  };
}

t.test('a cron schedule: late only once grace has passed after a due time no heartbeat followed', async (t) => {
  // Sartiq's production backups: 00, 06, 09, 12, 15, 18 and 21 UTC.
  const p = probe({ schedule: '0 0,6,9,12,15,18,21 * * *', grace: '30m' });
  const pinged: PushState = { watchingSince: at('2026-11-30T00:00:00Z'), last: { at: at('2026-12-01T06:04:00Z'), ok: true, message: null } };
  t.match(judgePush(p, pinged, at('2026-12-01T09:29:00Z')), { ok: true, message: 'last heartbeat 3h 25m ago (schedule "0 0,6,9,12,15,18,21 * * *", grace 30m)' }, 'the 09:00 run is still within its grace');
  t.match(judgePush(p, pinged, at('2026-12-01T09:31:00Z')), {
    ok: false,
    message: 'heartbeat late: none since the run due at 2026-12-01T09:00Z (schedule "0 0,6,9,12,15,18,21 * * *", grace 30m); last heartbeat 3h 27m ago',
    values: { age_seconds: 12_420 },
  });
  const afterNine: PushState = { ...pinged, last: { at: at('2026-12-01T09:12:00Z'), ok: true, message: null } };
  t.match(judgePush(p, afterNine, at('2026-12-01T12:20:00Z')), { ok: true }, 'the 09:00 run pinged; 12:00 is within grace');
  const never: PushState = { watchingSince: at('2026-12-01T10:00:00Z'), last: null };
  t.match(judgePush(p, never, at('2026-12-01T11:00:00Z')), { ok: true, message: /^no heartbeat since vigil began expecting one 1h 00m ago/ }, 'a due time before vigil watched does not count');
  t.match(judgePush(p, never, at('2026-12-01T12:31:00Z')), { ok: false, message: /^heartbeat late: none since the run due at 2026-12-01T12:00Z/ });
});

t.test('a period: late after period + grace since the last heartbeat (or since watching began)', async (t) => {
  const p = probe({ period: '1h', grace: '5m' });
  const state: PushState = { watchingSince: 0, last: { at: at('2026-12-01T06:00:00Z'), ok: true, message: null } };
  t.match(judgePush(p, state, at('2026-12-01T07:05:00Z')), { ok: true, message: 'last heartbeat 1h 05m ago (expected every 1h, grace 5m)' });
  t.match(judgePush(p, state, at('2026-12-01T07:05:01Z')), { ok: false, message: 'heartbeat late: last heartbeat 1h 05m ago (expected every 1h, grace 5m)' });
  const failed: PushState = { watchingSince: 0, last: { at: at('2026-12-01T06:00:00Z'), ok: false, message: 'disk full' } };
  t.match(judgePush(p, failed, at('2026-12-01T06:00:30Z')), { ok: false, message: 'the job reported failure 30s ago: disk full' }, 'a failed ping fails at once, within the period');
  t.match(judgePush(p, { ...failed, last: { ...failed.last!, message: null } }, at('2026-12-01T06:00:30Z')), { message: 'the job reported failure 30s ago (no message)' });
});

t.test('without a store the probe says where heartbeats go, and never throws', async (t) => {
  const p = probe({ period: '1h' });
  const findings = await pushProbe(p, { signal: new AbortController().signal, log: undefined as never, now: Date.now, transports: undefined as never });
  matchExactly(t, findings, [{ key: 'backup', ok: true, message: 'no heartbeat recorded for backup yet; vigil run receives them on POST /api/push/backup' }]);
});

t.test("a job's message is untrusted text: one line, secrets masked, bounded", async (t) => {
  t.equal(cleanPushMessage('dump failed:\n\tdisk full\u0007 password=hunter2'), 'dump failed: disk full password=***');
  t.equal(cleanPushMessage(' \n '), null);
  const long = cleanPushMessage('x'.repeat(5_000));
  t.equal(long?.length, MAX_PUSH_MESSAGE);
  t.ok(long?.endsWith('…'));
  t.ok(sameToken('abc', 'abc'));
  t.notOk(sameToken('abc', 'abcd'), 'a prefix is not the token');
  t.notOk(sameToken('', 'abc'));
});
