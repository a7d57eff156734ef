// The commands queue on a real PostgreSQL: what standbys forward is applied once, whoever drains it,
// and a command claimed by a leader whose session dies before it is marked done goes to the next leader.
import t from 'tap';
import { ClusterDb } from '../../src/cluster/db.js';
import { startPostgres } from '../helpers/pg.js';
import type { HasTeardown } from '../helpers/tmp.js';

// One server for the file: each test drains what it queued, so none sees another's commands.
const pg = await startPostgres(t);

function clusterDb(t: HasTeardown, url: string, replica: string): ClusterDb {
  const db = new ClusterDb(url, { replica, timeoutMs: 10_000 });
  t.teardown(() => db.close());
  return db;
}

t.test('two replicas draining at once apply every queued command exactly once, and each sender reads its answer', async (t) => {
  const standby = clusterDb(t, pg.superuserUrl, 'vigil-c');
  await standby.init();
  const ids: number[] = [];
  for (let n = 0; n < 40; n++) ids.push(await standby.enqueue('vigil-c', { kind: 'note', n }, 1_000 + n));

  // Two replicas that each believe they lead (a handover in progress) drain side by side.
  const applied: Array<{ by: string; n: number }> = [];
  const apply = (by: string) => (command: unknown) => {
    const { n } = command as { n: number };
    applied.push({ by, n });
    return { ok: true, n, by };
  };
  const a = clusterDb(t, pg.superuserUrl, 'vigil-a');
  const b = clusterDb(t, pg.superuserUrl, 'vigil-b');
  const [doneA, doneB] = await Promise.all([a.drain(apply('vigil-a'), () => 5_000), b.drain(apply('vigil-b'), () => 5_000)]);

  t.equal(doneA + doneB, 40, `the two drains applied 40 between them (${doneA} + ${doneB})`);
  const ns = applied.map((x) => x.n).sort((x, y) => x - y);
  t.same(ns, Array.from({ length: 40 }, (_, n) => n), 'every command once, none twice');
  for (const [i, id] of ids.entries()) {
    const answer = (await standby.answer(id)) as { n: number; by: string } | undefined;
    t.equal(answer?.n, i, `command ${id} answered with its own result`);
    t.equal(answer?.by, applied.find((x) => x.n === i)?.by, 'by the replica that applied it');
  }
  t.equal(await a.drain(apply('vigil-a'), () => 6_000), 0, 'a later drain finds nothing left');
});

t.test('a command claimed by a leader whose session dies before marking it done is applied by the next leader, once', async (t) => {
  const standby = clusterDb(t, pg.superuserUrl, 'vigil-c');
  await standby.init();
  const first = await standby.enqueue('vigil-c', { kind: 'ack', incident: 7 }, 1_000);
  const second = await standby.enqueue('vigil-c', { kind: 'note', incident: 7 }, 1_001);

  // The dying leader: it has claimed the first command in its transaction and got no further.
  const dying = await pg.connect();
  await dying.query("SET application_name = 'vigil vigil-a'");
  await dying.query('BEGIN');
  const claimed = await dying.query<{ id: string }>('SELECT id FROM vigil_cluster_commands WHERE done_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED');
  t.equal(Number(claimed.rows[0]?.id), first, 'the dying leader holds the first command');

  const applied: unknown[] = [];
  const next = clusterDb(t, pg.superuserUrl, 'vigil-b');
  t.equal(await next.drain((c) => (applied.push(c), { ok: true }), () => 2_000), 1, 'while it is held, the next leader applies only the other');
  t.same(applied, [{ kind: 'note', incident: 7 }]);
  t.equal(await standby.answer(first), undefined, 'the held command has no answer yet');

  const admin = await pg.connect();
  const pid = (await dying.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await dying.query('SELECT 1').catch(() => undefined);

  t.equal(await next.drain((c) => (applied.push(c), { ok: true, acked: true }), () => 3_000), 1, 'once its session is gone, the next leader applies it');
  t.same(applied, [{ kind: 'note', incident: 7 }, { kind: 'ack', incident: 7 }], 'each command once in all');
  t.same(await standby.answer(first), { ok: true, acked: true }, 'and the standby reads the answer');
  t.same(await standby.answer(second), { ok: true });
});

t.test('a command whose apply throws is answered as failed, not retried for ever', async (t) => {
  const db = clusterDb(t, pg.superuserUrl, 'vigil-a');
  await db.init();
  const id = await db.enqueue('vigil-b', { kind: 'resolve', incident: 3 }, 1_000);
  let calls = 0;
  const boom = () => {
    calls++;
    throw new Error('the engine refused it');
  };
  t.equal(await db.drain(boom, () => 2_000), 1);
  t.equal(await db.drain(boom, () => 3_000), 0, 'not offered again');
  t.equal(calls, 1);
  t.same(await db.answer(id), { ok: false, code: 'failed', message: 'the engine refused it' });
});
