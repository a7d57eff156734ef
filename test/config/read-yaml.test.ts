// The config's YAML goes through two readers: js-yaml for a plain document, yaml's Document for what
// js-yaml refuses and for every position. They must read the same values, and what only the Document
// reads right (aliases, the %YAML 1.1 directive, alias bombs, duplicate keys) must still be read right.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { Problems } from '../../src/config/errors.js';
import { loadConfigText } from '../../src/config/load.js';
import { fastYaml, REFUSED } from '../../src/config/read-yaml.js';
import { refusal } from '../helpers/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The value of the Document the loader falls back to (and places problems with), or undefined when it finds the text broken. */
function documentValue(text: string): unknown {
  const doc = new Problems('x.yaml', text).document;
  return doc.errors.length > 0 ? undefined : doc.toJS();
}

t.test("every YAML config in the repository reads the same through js-yaml as through yaml's Document", async (t) => {
  const dirs = ['probes', 'deploy/cluster', 'test/fixtures/config'];
  const files = dirs.flatMap((dir) => readdirSync(path.join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f)));
  t.ok(files.length > 30, `found ${files.length} configs`);
  let fast = 0;
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const value = fastYaml(text);
    if (value === REFUSED) continue;
    fast++;
    t.ok(isDeepStrictEqual(value, documentValue(text)), `${file}: the same value`);
  }
  // The shipped configs are plain documents: they take the fast path.
  for (const shipped of ['probes/sartiq.yaml', 'probes/demo.yaml']) t.not(fastYaml(readFileSync(path.join(root, shipped), 'utf8')), REFUSED, `${shipped} is read by js-yaml`);
  t.ok(fast > files.length / 2, `${fast} of ${files.length} read by js-yaml`);
});

t.test('scalars of every core-schema kind read the same through both', async (t) => {
  const scalars = [
    '30s', '1_000', '0777', '0o17', '0x1F', '+12', '-0', '.5', '1.', '1e3', '1E-3', '-.inf', '.NaN', 'NaN', 'inf', 'yes', 'no', 'on', 'off', 'True',
    'TRUE', 'tRUE', '~', 'null', 'NULL', '', '2024-01-01', '2024-01-01T00:00:00Z', '12:30', '"a\\x41"', "'it''s'", '!!str 12', '!!int "12"', '!!bool true',
    '"\\u00e9"', '12345678901234567890', 'a # c', 'a#c', '"S1"', 'S1', '0.0.0.0:9090', 'http://127.0.0.1:8080/health?x=1&y=2', '"${NOT_EXPANDED}"',
  ];
  const docs = [
    ...scalars.flatMap((s) => [`k: ${s}\n`, `- ${s}\n`, `{k: ${s}}\n`]),
    'k: |\n  a\n  b\n', 'k: >\n  a\n  b\n\n  c\n', 'k: |-\n  a\n', 'k: >+\n  a\n\n', '---\nk: 1\n...\n', 'k: "multi\n  line"\n', "k: 'a\n\n  b'\n",
    'k:\n- 1\n- 2\n', 'k: [1, 2,]\n', 'a: {b: c, d: [e, {f: g}]}\n', 'k: #c\n  v\n', '\ufeffk: v\n', 'k: v\r\nm: w\r\n', '__proto__: {x: 1}\n',
  ];
  let compared = 0;
  for (const text of docs) {
    const value = fastYaml(text);
    if (value === REFUSED) continue;
    compared++;
    t.ok(isDeepStrictEqual(value, documentValue(text)), `${JSON.stringify(text)}: ${JSON.stringify(value)}`);
  }
  t.ok(compared > docs.length * 0.9, `${compared} of ${docs.length} compared`);
});

const CONFIG = `environments: { production: {} }
probes:
  - { id: api, type: http, environment: production, url: "http://127.0.0.1:1/health", interval: 30s, enabled: true }
  - { id: web, type: http, environment: production, url: "http://127.0.0.1:2/", interval: 30s, enabled: false }
`;

t.test('anchors and merge keys load through the Document, to the same config as written out', async (t) => {
  t.equal(fastYaml('a: &x 1\nb: *x\n'), REFUSED, 'an alias is not for the fast path');
  const merged = loadConfigText(
    `environments: { production: {} }
probes:
  - &api { id: api, type: http, environment: production, url: "http://127.0.0.1:1/health", interval: 30s, enabled: true }
  - { <<: *api, id: web, url: "http://127.0.0.1:2/", enabled: false }
`,
    'x.yaml',
    {},
  );
  const written = loadConfigText(CONFIG, 'x.yaml', {});
  t.same(merged.probes, written.probes);
  // A problem in such a file is placed by the Document that read it.
  const unknown = refusal(() => loadConfigText(`x-common: &common { environment: production }\n${CONFIG.replace('environment: production,', '<<: *common,')}`, 'x.yaml', {}));
  t.same(unknown.problems.map((p) => [p.line, p.path]), [[1, 'x-common']]);
});

t.test('a %YAML 1.1 directive is honoured: "no" is false there, a string in YAML 1.2', async (t) => {
  const yaml12 = CONFIG.replace('enabled: false', 'enabled: no');
  const problem = refusal(() => loadConfigText(yaml12, 'x.yaml', {}));
  t.same(problem.problems.map((p) => [p.line, p.path]), [[4, 'probes[1].enabled']]);
  const config = loadConfigText(`%YAML 1.1\n---\n${yaml12}`, 'x.yaml', {});
  t.same(config.probes.map((p) => p.enabled), [true, false]);
});

t.test('an alias bomb is refused, not expanded', async (t) => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const err = refusal(() => loadConfigText(`${levels.join('\n')}\n${CONFIG}`, 'bomb.yaml', {}));
  t.match(err.problems[0], { file: 'bomb.yaml', line: 1, message: /^YAML error: .*alias/i });
});

t.test('a duplicate key and a syntax error are placed at their line', async (t) => {
  const duplicate = refusal(() => loadConfigText(`${CONFIG}environments: { staging: {} }\n`, 'x.yaml', {}));
  t.match(duplicate.problems, [{ line: 5, message: /^YAML syntax error: .*unique/ }]);
  const broken = refusal(() => loadConfigText(CONFIG.replace('url: "http://127.0.0.1:2/"', 'url: "http://127.0.0.1:2/'), 'x.yaml', {}));
  t.ok(broken.problems.length > 0 && broken.problems.every((p) => p.message.startsWith('YAML syntax error') && p.line >= 4), JSON.stringify(broken.problems));
});
