// alerts.max_age: the outbox's give-up age, 24h unless the config says otherwise.
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';

const BASE = 'environments:\n  production: {}\n';

t.test('alerts.max_age is read as a duration', async (t) => {
  const config = loadConfigText(`${BASE}alerts:\n  max_age: 90m\n`, 'max-age.yaml', {}, '.');
  t.equal(config.alerts.maxAgeMs, 90 * 60_000);
});

t.test('without it, messages are given up after 24 hours', async (t) => {
  const config = loadConfigText(BASE, 'default.yaml', {}, '.');
  t.equal(config.alerts.maxAgeMs, 24 * 3_600_000);
});
