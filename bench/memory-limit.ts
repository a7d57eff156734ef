// Puts this process, and every process it starts afterwards, under a memory limit, as systemd's
// MemoryMax= or a container's mem_limit would. Node sizes V8's heap from the memory it may use when it
// starts: on a host with 24 GB and no limit V8 lets garbage grow to four times the live heap, under a
// limit of 2 GB (a small VM, the shipped unit) to less than twice. Needs root and cgroupfs (v1 or v2).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** Enters a new cgroup limited to `bytes`; returns how to leave and remove it (call after the children exited). */
export function enterMemoryLimit(bytes: number): () => void {
  const v2 = existsSync(join(ROOT, 'cgroup.controllers'));
  const parent = v2 ? ROOT : join(ROOT, 'memory');
  if (!v2 && !existsSync(join(parent, 'memory.limit_in_bytes'))) throw new Error(`--memory-limit-mb: no cgroup memory controller under ${ROOT}`);
  const dir = join(parent, `vigil-bench-${process.pid}`);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(bytes));
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
  } catch (err) {
    throw new Error(`--memory-limit-mb: cannot make the cgroup ${dir} (it takes root): ${(err as Error).message}`);
  }
  return () => {
    writeFileSync(join(parent, 'cgroup.procs'), String(process.pid));
    // The last child may still be exiting: a cgroup with a process in it cannot be removed.
    for (let attempt = 0; attempt < 50; attempt++) {
      if (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '') break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    try {
      rmdirSync(dir);
    } catch (err) {
      process.stderr.write(`could not remove the cgroup ${dir}: ${(err as Error).message}\n`);
    }
  };
}
