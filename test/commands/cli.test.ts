// The command line as a new user meets it: help per command, a config path never ignored, start-up errors in words.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../src/cli.js';
import { VIGIL_BIN } from '../helpers/vigil-process.js';
import { tmpDir } from '../helpers/tmp.js';

/** The real `vigil` process, for what only a whole process shows (its log, its exit). */
function vigilProcess(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: 'utf8', timeout, env: { PATH: process.env.PATH } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI's main() in this process, with what it writes to stdout and stderr. */
async function vigil(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

const CONFIG = (dir: string, listen = '127.0.0.1:0') => `server: { listen: ${listen} }
store: { path: ${join(dir, 'data', 'vigil.db')} }
environments: { production: {} }
probes:
  - { id: web, type: http, url: "http://127.0.0.1:1/", environment: production, service: web }
`;

t.test('help lists every command, and each command has its own help', async (t) => {
  const all = await vigil(['help']);
  t.equal(all.code, 0);
  for (const name of ['run', 'check', 'validate', 'incidents', 'ack', 'resolve', 'note', 'review', 'demo', 'schema']) {
    t.match(all.stdout, new RegExp(`^  ${name}\\b`, 'm'), `${name} is listed`);
  }
  const check = await vigil(['help', 'check']);
  t.equal(check.code, 0);
  t.match(check.stdout, /^usage: vigil check /);
  t.match(check.stdout, /-c, --config FILE/);
  t.match(check.stdout, /exit: 0 all passed · 1 worst failure S3\/S4 · 2 worst failure S1\/S2 · 78 bad config/);
  t.equal((await vigil(['check', '--help'])).stdout, check.stdout, '`check --help` prints the same');
  t.match((await vigil(['demo', '-h'])).stdout, /--speed N/);
  t.match((await vigil(['run', '--help'])).stdout, /^usage: vigil run \[-c FILE\]/);
  const unknown = await vigil(['help', 'frobnicate']);
  t.equal(unknown.code, 64);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('a positional config path is the config, never ignored', async (t) => {
  const dir = tmpDir(t);
  const mine = join(dir, 'my.yaml');
  writeFileSync(mine, CONFIG(dir));
  const ok = await vigil(['validate', mine]);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stdout, `${mine}: OK — 1 probe, 1 environment, 0 hosts, 0 databases\n`, 'the file given, counted in words');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'environments: { production: {} }\nprobes: [{ id: x, type: http }]\n');
  const refused = await vigil(['validate', bad]);
  t.equal(refused.code, 78, 'the given file is the one validated');
  t.match(refused.stderr, `${bad}:2:`);

  const twice = await vigil(['validate', mine, '-c', bad]);
  t.equal(twice.code, 64);
  t.match(twice.stderr, /the config is given twice/);
  const two = await vigil(['run', mine, bad]);
  t.equal(two.code, 64);
  t.match(two.stderr, /takes one config file/);
  const extra = await vigil(['schema', 'extra']);
  t.equal(extra.code, 64);
  t.match(extra.stderr, /"schema" takes no arguments/);
});

t.test('check takes probe ids and a config path side by side', async (t) => {
  const dir = tmpDir(t);
  const mine = join(dir, 'my.yaml');
  writeFileSync(mine, CONFIG(dir));
  const r = await vigil(['check', mine, 'nope']);
  t.equal(r.code, 78);
  t.match(r.stderr, `no probe with id "nope" in ${mine}`, 'the ids are looked up in the given file');
});

t.test('a port in use names server.listen and the port', async (t) => {
  const dir = tmpDir(t);
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const port = (busy.address() as { port: number }).port;
  const file = join(dir, 'busy.yaml');
  writeFileSync(file, CONFIG(dir, `127.0.0.1:${port}`));
  const r = vigilProcess(['run', file]);
  t.equal(r.code, 1);
  t.match(r.stdout, `server.listen 127.0.0.1:${port} in ${file}: port ${port} is already in use`);
});

t.test('incidents with no store says so and exits non-zero', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, CONFIG(dir));
  const r = await vigil(['incidents', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, `no store at ${join(dir, 'data', 'vigil.db')}`);
});

t.test('docs/cli.md is every command\'s current help', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { cliReference } = await import('../../src/cli.js');
  const file = new URL('../../docs/cli.md', import.meta.url);
  t.equal(readFileSync(file, 'utf8'), cliReference(), 'regenerate with: npm run docs');
});
