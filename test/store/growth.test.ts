// A steady fleet of 1,000 probes for 3 hours must not grow the store: it writes on change only.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../src/store/sqlite.js';
import type { StoreChange } from '../../src/store/store.js';
import { tmpDir } from '../helpers/tmp.js';

const PROBES = 1_000;
const STEPS = 360; // 3 h of 30 s intervals
const INTERVAL_MS = 30_000;
const MB = 1024 * 1024;
const T0 = Date.UTC(2025, 0, 6, 0, 0, 0);

t.test('1,000 probes × 360 passing runs keep the database under 2 MB', { timeout: 120_000 }, async (t) => {
  const file = join(tmpDir(t), 'vigil.db');
  const store = openStore(file);
  const empty: StoreChange = { subjects: [], incidents: [], timeline: [], messages: [], events: [] };
  let peak = 0;
  for (let step = 0; step < STEPS; step++) {
    const at = T0 + step * INTERVAL_MS;
    for (let p = 0; p < PROBES; p++) {
      store.recordRun({ probe: `probe-${p}`, environment: 'production', service: `svc-${p % 20}`, at, ok: true });
      // A passing probe whose counters are saturated: the engine reports no change.
      store.apply(empty);
    }
    if (step % 2 === 1) store.flushUptime(); // the daemon flushes about once a minute
    peak = Math.max(peak, store.sizeBytes());
  }
  const rows = store.uptime(T0);
  t.equal(rows.length, PROBES * 3, 'one row per probe-hour, not one per run');
  t.ok(rows.every((r) => r.ok === 120 && r.failed === 0), 'every run counted');
  t.ok(peak < 8 * MB, `database + WAL peaked at ${(peak / MB).toFixed(2)} MB`);
  store.close();
  const size = statSync(file).size;
  t.ok(size < 2 * MB, `the file is ${(size / MB).toFixed(2)} MB after ${PROBES * STEPS} runs`);
});
