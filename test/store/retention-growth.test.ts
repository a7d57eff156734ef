// Under a simulated clock, the daemon's hourly prune keeps a store at the size of its retention: a
// fleet watched for ten days with a two-day retention is no bigger than it was after four.
import t from 'tap';
import { join } from 'node:path';
import { simulateStoreGrowth } from '../../bench/store-growth.js';
import { openStore } from '../../src/store/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

const PROBES = 500;
const HOUR_MS = 3_600_000;
const MB = 2 ** 20;

t.test('retention 2d over 10 simulated days: the store stops growing once old hours are pruned', { timeout: 120_000 }, async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const growth = simulateStoreGrowth({ probes: PROBES, days: 10, file, retention: '2d', stepMs: HOUR_MS });
  t.equal(growth.bytesPerDay.length, 10);
  t.ok(growth.incidents >= (PROBES / 50) * 10, `flapping probes opened and resolved incidents (${growth.incidents})`);
  const [, , , day4, ...later] = growth.bytesPerDay as [number, number, number, number, ...number[]];
  const peak = Math.max(...later);
  t.ok(peak <= day4 * 1.25, `after day 4 the store peaked at ${(peak / MB).toFixed(2)} MB, ${(day4 / MB).toFixed(2)} MB at day 4`);
  const store = openStore(file);
  t.teardown(() => store.close());
  // Two days of hourly rows (the prune cuts whole hours), not ten.
  const rows = store.uptime(0).length;
  t.ok(rows <= PROBES * 24 * 3, `${rows} uptime rows kept, not the ${PROBES * 24 * 10} of ten days`);
  t.ok(rows >= PROBES * 24 * 2, 'the retention itself is kept');
});
