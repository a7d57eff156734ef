// The user reference in docs/ stays true to the code: every metric is documented, and nothing points outside the repository.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { createMetrics } from '../src/metrics.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

t.test('docs/metrics.md documents every vigil_ metric the daemon exposes', async (t) => {
  const metrics = createMetrics('test');
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('vigil_'));
  t.ok(names.length >= 15, `${names.length} families`);
  const doc = read('docs/metrics.md');
  for (const name of names) t.match(doc, `\`${name}\``, name);
});

t.test('the README and docs/ link to each other and to nothing outside the repository', async (t) => {
  const pages = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const page of pages) {
    const text = read(page);
    t.notMatch(text, /\.\.\/shared|SPEC\.md|SPEC §/, `${page} stands alone`);
  }
  const index = read('docs/README.md');
  for (const f of readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md') && f !== 'README.md')) t.match(index, `(${f})`, `docs/README.md links ${f}`);
  t.match(read('README.md'), '(docs/README.md)');
});
