// alerts.max_age: the outbox's give-up age, 24h unless the config says otherwise.
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { DEFAULT_MAX_AGE_MS, outboxMaxAgeMs } from '../../src/daemon.js';

const BASE = 'environments:\n  production: {}\n';

t.test('alerts.max_age is read as a duration and reaches the outbox', async (t) => {
  const config = loadConfigText(`${BASE}alerts:\n  max_age: 90m\n`, 'max-age.yaml', {}, '.');
  t.equal(outboxMaxAgeMs(config), 90 * 60_000);
  t.equal((config.alerts as { maxAgeMs?: number }).maxAgeMs, 90 * 60_000);
});

t.test('without it, messages are given up after 24 hours', async (t) => {
  const config = loadConfigText(BASE, 'default.yaml', {}, '.');
  t.equal(outboxMaxAgeMs(config), 24 * 3_600_000);
  t.equal(DEFAULT_MAX_AGE_MS, 24 * 3_600_000);
});
