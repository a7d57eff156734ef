// Leadership on a real PostgreSQL: two replicas contend for the advisory lock; one leads, and when
// its session dies a leader (the other, or the old one reconnected) takes over within two intervals.
import { pino } from 'pino';
import t from 'tap';
import { Leadership } from '../../src/cluster/leadership.js';
import { startPostgres } from '../helpers/pg.js';
import type { HasTeardown } from '../helpers/tmp.js';
import { waitFor } from '../helpers/vigil-process.js';

const INTERVAL_MS = 300;
const log = pino({ enabled: false });

function replica(t: HasTeardown, url: string, name: string) {
  const changes: boolean[] = [];
  const l = new Leadership({ url, replica: name, intervalMs: INTERVAL_MS, log, onChange: (leading) => changes.push(leading) });
  t.teardown(() => l.stop());
  return { l, changes, name };
}

t.test('one of two replicas leads; terminating its session hands the lead on within two intervals, to one replica only', async (t) => {
  const pg = await startPostgres(t);
  const admin = await pg.connect();
  const a = replica(t, pg.superuserUrl, 'vigil-a');
  const b = replica(t, pg.superuserUrl, 'vigil-b');
  a.l.start();
  await waitFor(() => a.l.leading, 10_000, () => 'vigil-a never led');
  b.l.start();
  // b tries several times while a holds the lock: it must never lead alongside.
  for (let i = 0; i < 3; i++) await b.l.attempt();
  t.equal(b.l.leading, false, 'the second replica stands by while the first leads');
  t.same(b.changes, [], 'and was never told it leads');

  const holders = await admin.query<{ pid: number; application_name: string }>(
    `SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted`,
  );
  t.equal(holders.rows.length, 1, 'exactly one session holds the leadership lock');
  t.match(holders.rows[0]!.application_name, /vigil-a/, 'and it is the leader\'s own session');

  const killedAt = Date.now();
  await admin.query('SELECT pg_terminate_backend($1)', [holders.rows[0]!.pid]);
  // Watched through its changes, not by polling `leading`: on a busy machine vigil-a may reconnect and
  // take the free lock back between two polls, which is a leader re-established, not a failure.
  await waitFor(() => a.changes.length >= 2, 10_000, () => 'vigil-a still believes it leads after its session was terminated');
  t.same(a.changes.slice(0, 2), [true, false], 'the old leader was told at once that it stopped leading');
  const next = await waitFor(() => (b.l.leading ? b : a.l.leading ? a : null), 10_000, () => 'nobody took over');
  const took = Date.now() - killedAt;
  // Generous: two intervals plus scheduling slack on a shared machine; a broken handover never ends.
  t.ok(took < 2 * INTERVAL_MS + 2_000, `${next.name} leads ${took} ms after the session died`);
  const other = next === a ? b : a;
  // The other one, connected, keeps standing by.
  for (let i = 0; i < 3; i++) await other.l.attempt();
  t.equal(other.l.leading, false, `${other.name} stands by while ${next.name} leads`);
  t.equal(next.l.leading, true);
  t.same(b.changes, next === b ? [true] : [], 'vigil-b was told it leads only if it does');
  const after = await admin.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted`,
  );
  t.same(after.rows.map((r) => r.application_name), [`vigil ${next.name} leadership`], 'one session holds the lock: the new leader\'s');
});

t.test('a leader that stops frees the lock at once; one whose server stops stands down', async (t) => {
  const pg = await startPostgres(t);
  const a = replica(t, pg.superuserUrl, 'vigil-a');
  const b = replica(t, pg.superuserUrl, 'vigil-b');
  a.l.start();
  await waitFor(() => a.l.leading, 10_000, () => 'vigil-a never led');
  b.l.start();
  await a.l.stop();
  await waitFor(() => b.l.leading, 10_000, () => 'vigil-b never took over from a replica that stopped');
  await pg.stop();
  await waitFor(() => !b.l.leading, 10_000, () => 'vigil-b still leads with its server stopped');
  t.same(b.changes, [true, false], 'the leader stood down when PostgreSQL went away');
  await pg.start();
  await waitFor(() => b.l.leading, 15_000, () => 'vigil-b did not lead again once PostgreSQL was back');
  t.same(b.changes, [true, false, true], 'and leads again once it is back');
});
