// deploy/cluster/: the two-VM example's config loads as the README says (same file on both VMs,
// replica named by the hostname, a PostgreSQL store), and its README runs on what the config has.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV = {
  VIGIL_STORE_URL: 'postgres://vigil_store:pw@db.example.com:5432/vigil',
  VIGIL_API_TOKEN: 'token',
  DISCORD_WEBHOOK_ERRORS: 'https://discord.com/api/webhooks/1/a',
  DISCORD_WEBHOOK_WARNINGS: 'https://discord.com/api/webhooks/2/b',
  DISCORD_WEBHOOK_OPS: 'https://discord.com/api/webhooks/3/c',
};

t.test('deploy/cluster/vigil.yaml: one file for both VMs, a shared PostgreSQL store, each replica its hostname', async (t) => {
  const config = loadConfig(`${ROOT}deploy/cluster/vigil.yaml`, ENV);
  t.equal(config.store.postgres?.url, ENV.VIGIL_STORE_URL, 'the store is the PostgreSQL database of VIGIL_STORE_URL');
  t.same(config.cluster, { replica: hostname(), quorum: 'majority', mode: 'replicate', intervalMs: 5_000 });
  const readme = readFileSync(`${ROOT}deploy/cluster/README.md`, 'utf8');
  for (const name of Object.keys(ENV)) t.match(readme, `${name}=`, `the README's env file sets ${name}`);
  t.match(readme, '/api/cluster', 'and shows how to see who leads');
});
