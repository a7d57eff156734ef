// Replicas share silences through the store: the leader's book reads again what a standby's added.
import t from 'tap';
import type { Silence } from '../../src/incidents/silences.js';
import { SilenceBook } from '../../src/silence-book.js';
import { openStore } from '../../src/store/sqlite.js';

t.test('a silence added through one book reaches another on refresh, which tells its engine once', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  const now = () => 1_800_000_000_000;
  const standby = new SilenceBook({ store, now });
  const heard: Array<readonly Silence[]> = [];
  const leader = new SilenceBook({ store, now, onChange: (current) => heard.push(current) });
  const added = standby.add({ matchers: { service: 'backend' }, durationMs: 3_600_000, reason: 'deploy', by: 'alice' });
  t.same(leader.current(), [], 'not seen before a refresh');
  leader.refresh();
  t.same(leader.current().map((s) => s.id), [added.id], 'seen after it');
  t.equal(heard.length, 1, 'and the engine was told');
  leader.refresh();
  t.equal(heard.length, 1, 'a refresh that finds nothing new tells nobody');
  standby.expire(added.id, 'bob');
  leader.refresh();
  t.same(leader.current(), [], 'an expiry on the standby reaches it too');
  t.equal(heard.length, 2);
});
