// The configuration reference stays complete and docs/configuration.md carries the current one.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DESCRIPTIONS } from '../../src/config/descriptions.js';
import { configReference, referenceRows } from '../../src/config/reference.js';

t.test('every key of the schema is described, and nothing is described that does not exist', async (t) => {
  const rows = referenceRows();
  t.ok(rows.length > 80, `the reference lists every key (${rows.length})`);
  const missing = rows.filter((r) => !r.description).map((r) => r.path);
  t.same(missing, [], 'keys without a description (add them to src/config/descriptions.ts)');
  const paths = new Set(rows.map((r) => r.path));
  t.same(Object.keys(DESCRIPTIONS).filter((p) => !paths.has(p)), [], 'descriptions of keys the schema no longer has');
});

t.test('the reference marks required keys, types and defaults', async (t) => {
  const rows = new Map(referenceRows().map((r) => [r.path, r]));
  t.match(rows.get('hosts.<name>.compose_dir'), { required: true, type: 'string' });
  t.match(rows.get('hosts.<name>.port'), { required: false, type: 'integer', default: '22' });
  t.match(rows.get('probes[].severity'), { type: 'S1 \\| S2 \\| S3 \\| S4' });
  t.match(rows.get('probes[type=http].url'), { required: true });
  t.match(rows.get('defaults.interval'), { default: '"30s"' });
});

t.test('docs/configuration.md holds the generated reference (regenerate: npm run docs)', async (t) => {
  const readme = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const start = readme.indexOf('<!-- config-reference:start -->\n');
  const end = readme.indexOf('<!-- config-reference:end -->');
  t.ok(start >= 0 && end > start, 'docs/configuration.md has the reference markers');
  t.equal(readme.slice(start + '<!-- config-reference:start -->\n'.length, end), configReference());
});
