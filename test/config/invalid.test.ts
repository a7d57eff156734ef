// Every test/fixtures/config/invalid-*.yaml is refused with exactly the text of its sibling .txt.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigText } from '../../src/config/load.js';

const fixturesDir = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
// Problems name the file as the operator passed it; the fixtures pass it relative to the repo root.
const shownDir = 'test/fixtures/config';

/** A fixed environment: only these secrets exist, whatever the machine running the tests has set. */
const FIXTURE_ENV: NodeJS.ProcessEnv = Object.freeze({
  FIXTURE_DB_URL: 'postgres://vigil:fixture-db-password@127.0.0.1:5432/app',
  FIXTURE_SSH_KEY: 'fixture-private-key',
  FIXTURE_WEBHOOK: 'https://discord.example/api/webhooks/1/fixture-webhook-token',
  FIXTURE_SHORT_SECRET: 'too-short-key',
});

const fixtures = readdirSync(fixturesDir)
  .filter((f) => f.startsWith('invalid-') && f.endsWith('.yaml'))
  .sort();

t.test('there are enough invalid fixtures, each paired with its expected text', async (t) => {
  t.ok(fixtures.length >= 18, `${fixtures.length} fixtures`);
  for (const f of fixtures) t.ok(existsSync(path.join(fixturesDir, f.replace(/\.yaml$/, '.txt'))), `${f} has a .txt`);
});

for (const fixture of fixtures) {
  t.test(fixture, async (t) => {
    const text = readFileSync(path.join(fixturesDir, fixture), 'utf8');
    const expected = readFileSync(path.join(fixturesDir, fixture.replace(/\.yaml$/, '.txt')), 'utf8').trimEnd();
    let thrown: unknown;
    try {
      loadConfigText(text, `${shownDir}/${fixture}`, FIXTURE_ENV, fixturesDir);
    } catch (err) {
      thrown = err;
    }
    t.type(thrown, ConfigError, 'refused with a ConfigError');
    if (!(thrown instanceof ConfigError)) return;
    t.equal(thrown.code, 'VIGIL_ERR_CONFIG');
    t.equal(thrown.message, expected, 'exact error text');
    t.equal(thrown.problems.length, expected.split('\n').length, 'one problem per line');
    for (const p of thrown.problems) {
      t.equal(p.file, `${shownDir}/${fixture}`);
      t.ok(p.line >= 1 && p.col >= 1, `${p.path} has a position`);
    }
    // No fixture problem may echo a secret the environment holds.
    for (const secret of Object.values(FIXTURE_ENV)) t.notMatch(thrown.message, secret ?? '');
  });
}
