// Runs a snippet of vigil code as an ordinary user, so permission checks root would sail past are seen.
import { spawnSync } from 'node:child_process';

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;
/** The TypeScript loader this test process runs under, so the child can import src/*.ts too. */
const loaderArgs = process.execArgv.filter((a) => a.startsWith('--import=') && a.includes('typescript'));

/**
 * Runs `script` (an ES module body) in a child node process as uid/gid nobody and returns its
 * trimmed stdout. Only root may do so; callers that are not root run the check in-process instead.
 */
export function runAsNobody(script: string, env: Record<string, string>): string {
  if (!isRoot) throw new Error('runAsNobody needs root to switch users');
  const res = spawnSync(process.execPath, [...loaderArgs, '--input-type=module', '-e', script], {
    uid: NOBODY,
    gid: NOBODY,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`the unprivileged child failed (exit ${res.status}): ${res.stderr}`);
  return res.stdout.trim();
}
