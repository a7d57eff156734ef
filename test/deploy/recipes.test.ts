// The shipped Sartiq config validates under each deploy recipe's environment: the SSH key where the
// recipe puts it (compose secret, systemd credential), the variables of its env file, and nothing else.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import t from 'tap';
import { parse } from 'yaml';
import { VIGIL_BIN } from '../helpers/vigil-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const run = promisify(execFile);

interface Recipe {
  name: string;
  /** Where the recipe puts the SSH private key, as vigil sees it. */
  keyPath: string;
}

/** deploy/compose.yaml: the vigil service's secret, at its target or Docker's default /run/secrets/<name>. */
function composeRecipe(): Recipe {
  const compose = parse(read('deploy/compose.yaml')) as { services: { vigil: { secrets: Array<string | { source: string; target?: string }> } } };
  const [secret] = compose.services.vigil.secrets;
  const source = typeof secret === 'string' ? secret : secret!.source;
  const target = typeof secret === 'string' ? undefined : secret!.target;
  return { name: 'deploy/compose.yaml', keyPath: target?.startsWith('/') ? target : `/run/secrets/${target ?? source}` };
}

/** deploy/vigil.service: LoadCredential=NAME:PATH lands in /run/credentials/<unit>/NAME. */
function systemdRecipe(): Recipe {
  const unit = 'deploy/vigil.service';
  const credential = /^LoadCredential=([^:\n]+):/m.exec(read(unit))?.[1];
  if (!credential) throw new Error(`${unit} loads no credential`);
  return { name: unit, keyPath: `/run/credentials/${basename(unit)}/${credential}` };
}

/** Values of the right shape for every `*_env` variable the config names, as the recipe's env file would hold. */
function envFile(config: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, key, name] of config.matchAll(/\b([a-z_]+)_env:\s*([A-Z][A-Z0-9_]*)/g)) {
    env[name!] = /url/.test(key!) && /DB_URL$/.test(name!) ? 'postgres://vigil:pw@127.0.0.1:5432/app' : /url/.test(key!) ? 'https://example.invalid/hook' : `${name!.toLowerCase()}-value`;
  }
  return env;
}

/** The operator's ADAPT step: the placeholder host-key pins replaced by real fingerprints. */
function pinned(config: string): string {
  const { public: pub } = ssh2.utils.generateKeyPairSync('ed25519');
  const blob = Buffer.from(pub.split(' ')[1]!, 'base64');
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return config.replace(/(host_key_sha256:\s*)"SHA256:REPLACE[^"]*"/g, `$1"${fingerprint}"`);
}

const canUnshare = await run('unshare', ['--mount', 'true']).then(
  () => true,
  () => false,
);
t.setTimeout(240_000); // four vigil start-ups on a busy machine

const skip = canUnshare ? false : 'needs `unshare --mount` (root) to put the key where each recipe does without touching this machine';

/** `vigil validate` in a private mount namespace where `keyPath` (if given) holds the key, as the recipe arranges. */
async function validateUnder(configFile: string, env: Record<string, string>, keyFile: string, keyPath: string | null): Promise<{ code: number; out: string }> {
  const script = keyPath
    ? `mount -t tmpfs tmpfs /run && mkdir -p "${posix.dirname(keyPath)}" && cp "$KEY_SOURCE" "${keyPath}" && exec "$NODE" "$VIGIL" validate`
    : 'mount -t tmpfs tmpfs /run && exec "$NODE" "$VIGIL" validate';
  try {
    const { stdout, stderr } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', VIGIL_CONFIG: configFile, KEY_SOURCE: keyFile, NODE: process.execPath, VIGIL: VIGIL_BIN, ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

for (const recipe of [composeRecipe(), systemdRecipe()]) {
  t.test(`probes/sartiq.yaml validates under ${recipe.name}`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-recipe-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const config = pinned(read('probes/sartiq.yaml'));
    const configFile = join(dir, 'vigil.yaml');
    writeFileSync(configFile, config);
    const keyFile = join(dir, 'id_ed25519');
    writeFileSync(keyFile, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    const env = envFile(config);

    const ok = await validateUnder(configFile, env, keyFile, recipe.keyPath);
    t.equal(ok.code, 0, `with the key at ${recipe.keyPath}: ${ok.out}`);
    t.match(ok.out, /: OK/);

    // The same environment without the key: the config names the file it could not read.
    const without = await validateUnder(configFile, env, keyFile, null);
    t.equal(without.code, 78, 'refused without the key');
    t.match(without.out, new RegExp(`private_key_file: cannot read "${recipe.keyPath}"`));
  });
}
