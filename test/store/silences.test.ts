// Silences in the SQLite store: kept across a reopen, listed newest first, expired once, pruned after the retention.
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

const T0 = Date.UTC(2026, 11, 1, 2, 0, 0);
const HOUR = 3_600_000;

t.test('added, listed, expired early, and still there after a restart', async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  const first = store.addSilence({ matchers: { probe: 'backend-health' }, startsAt: T0, endsAt: T0 + 2 * HOUR, reason: 'deploy 2.4', by: 'alice' });
  const second = store.addSilence({ matchers: { service: 'webapp', environment: 'staging' }, startsAt: T0, endsAt: T0 + HOUR, reason: 'migration', by: 'bob' });
  t.same(first, { id: 1, matchers: { probe: 'backend-health' }, startsAt: T0, endsAt: T0 + 2 * HOUR, reason: 'deploy 2.4', by: 'alice', expiredBy: null });
  t.same(store.listSilences({ activeAt: T0 }).map((s) => s.id), [2, 1], 'newest first');
  t.same(store.listSilences({ activeAt: T0 + HOUR }).map((s) => s.id), [1], 'the second is over at its end');

  const expired = store.expireSilence(first.id, 'carol', T0 + 10 * 60_000);
  t.match(expired, { id: 1, endsAt: T0 + 10 * 60_000, expiredBy: 'carol' });
  t.equal(store.expireSilence(first.id, 'carol', T0 + 11 * 60_000), null, 'already over: nothing to expire');
  t.equal(store.expireSilence(99, 'carol', T0), null, 'unknown');
  store.close();

  const again = openStore(file);
  t.teardown(() => again.close());
  t.same(again.listSilences().map((s) => [s.id, s.expiredBy, s.matchers]), [[2, null, { service: 'webapp', environment: 'staging' }], [1, 'carol', { probe: 'backend-health' }]]);
  t.equal(again.addSilence({ matchers: { environment: 'dev' }, startsAt: T0, endsAt: T0 + 20 * 86_400_000, reason: 'a long one', by: 'b' }).id, 3);
  again.prune(T0 + 40 * 86_400_000, 30 * 86_400_000);
  t.same(again.listSilences().map((s) => s.id), [3], 'those over for longer than the retention are pruned');
  again.prune(T0 + 51 * 86_400_000, 30 * 86_400_000);
  t.same(again.listSilences(), []);
});

t.test('the table refuses a silence that matches everything', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  t.throws(() => store.addSilence({ matchers: {}, startsAt: T0, endsAt: T0 + HOUR, reason: 'r', by: 'b' }), /CHECK constraint failed/);
});
