// The host probe against an in-process SSH host answering df -P, df -Pi and /proc/meminfo: one finding per real mount, memory, garbage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { probeSchema } from '../../src/config/schema.js';
import { HOST_COMMAND, hostProbe, type HostProbe, isPseudoMount, parseHostOutput } from '../../src/probes/host.js';
import type { Finding } from '../../src/types.js';
import type { ProbeContext } from '../../src/probes/contract.js';
import { type FakeSshHost, FIXTURES, hostFor, startSshServer, transportsFor } from '../helpers/ssh-server.js';

const log = pino({ enabled: false });
const HOST_FIXTURES = join(FIXTURES, '..', 'host');
const read = (name: string) => readFileSync(join(HOST_FIXTURES, name), 'utf8');
/** What the host prints for HOST_COMMAND: the three outputs between vigil's markers. */
export const HOST_OUTPUT = `${read('df-P.txt')}@@vigil:inodes\n${read('df-Pi.txt')}@@vigil:meminfo\n${read('meminfo.txt')}`;

function probe(raw: Record<string, unknown> = {}): HostProbe {
  const spec = probeSchema.parse({ id: 'app-disks', type: 'host', host: 'app-1', ...raw });
  if (spec.type !== 'host') throw new Error('not a host probe');
  return {
    id: spec.id, type: 'host', environment: 'production', service: 'app-1', severity: spec.severity ?? 'S2', summary: 'Disk or memory running out on app-1',
    intervalMs: 30_000, schedule: null, timeoutMs: 5_000, failureThreshold: 2, successThreshold: 2, dependsOn: [], implicitDeps: ['host:app-1'],
    enabled: true, escalate: [], spec, headers: {},
  };
}

async function runAgainst(t: Test, fake: FakeSshHost, p = probe()): Promise<Record<string, Finding>> {
  const ctx: ProbeContext = { signal: new AbortController().signal, log, now: Date.now, transports: transportsFor(t, [hostFor(fake)]) };
  return Object.fromEntries((await hostProbe(p, ctx)).map((f) => [f.key, f]));
}

t.test('one finding per real mount (space and inodes), one for memory, pseudo filesystems left out', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = (command) => (command === HOST_COMMAND ? { stdout: HOST_OUTPUT } : { stderr: 'unexpected command\n', code: 2 });
  const f = await runAgainst(t, fake);
  t.equal(fake.commands[0], HOST_COMMAND, 'one command, in the C locale');
  t.same(Object.keys(f).sort(), ['app-disks', 'app-disks:disk:/', 'app-disks:disk:/boot/efi', 'app-disks:disk:/var/lib/postgresql data', 'app-disks:memory', 'host:app-1']);
  t.match(f['host:app-1'], { ok: true });
  t.match(f['app-disks'], { ok: true, message: 'app-1: 3 mounts, fullest / 91%, memory 92% used' });
  t.match(f['app-disks:disk:/'], {
    ok: false,
    severity: 'S3',
    message: 'disk filling: / on app-1 91% full (43.9 GiB of 48.3 GiB used, 4.4 GiB free); inodes 13% used (412876 of 3225600), at or past warn 85%',
    values: { available_bytes: 4591432 * 1024 },
  });
  t.match(f['app-disks:disk:/']?.evidence, '/dev/sda1         50620216 46012400   4591432      91% /');
  t.match(f['app-disks:disk:/var/lib/postgresql data'], {
    ok: false,
    severity: 'S2',
    message: /^out of inodes: \/var\/lib\/postgresql data on app-1 21% full .*; inodes 99% used \(6488064 of 6553600\), at or past critical 95%$/,
  });
  t.match(f['app-disks:disk:/boot/efi'], { ok: true, message: /6% full.*; no inode count$/ });
  t.match(f['app-disks:memory'], { ok: false, severity: 'S3', message: 'memory on app-1 92% used (627 MiB available of 7.7 GiB), at or past warn 90%' });
});

t.test('thresholds and switches from the config', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = () => ({ stdout: HOST_OUTPUT });
  const f = await runAgainst(t, fake, probe({ severity: 'S1', disk: { warn: 0.5, critical: 0.9 }, memory: false }));
  t.match(f['app-disks:disk:/'], { ok: false, severity: 'S1', message: /at or past critical 90%$/ });
  t.equal(f['app-disks:memory'], undefined, 'memory: false reads no memory finding');
  const relaxed = await runAgainst(t, fake, probe({ disk: { warn: 0.995, critical: 0.999 }, memory: { warn: 0.95 } }));
  t.match(relaxed['app-disks:disk:/'], { ok: true });
  t.match(relaxed['app-disks:memory'], { ok: true });
});

t.test('garbage output, a missing MemAvailable and a failed command are findings, never a throw', async (t) => {
  const fake = await startSshServer(t);
  fake.reply = () => ({ stdout: '<html>login required</html>\n' });
  const garbage = await runAgainst(t, fake);
  t.match(garbage['app-disks'], { ok: false, message: 'output of df or /proc/meminfo on app-1 not understood: the output is not that of df and /proc/meminfo' });
  t.match(garbage['app-disks']?.evidence, '<html>login required</html>');
  t.match(garbage['host:app-1'], { ok: true }, 'the host answered: it is the output that is wrong');

  fake.reply = () => ({ stdout: HOST_OUTPUT.replace(/^\/dev\/sda1 .*$/m, '/dev/sda1 lots of space') });
  const badLine = await runAgainst(t, fake);
  t.match(badLine['app-disks'], { ok: false, message: /not understood: df -P line not understood: "\/dev\/sda1 lots of space"$/ });

  fake.reply = () => ({ stdout: HOST_OUTPUT.replace(/^MemAvailable:.*\n/m, '') });
  const noAvailable = await runAgainst(t, fake);
  t.match(noAvailable['app-disks'], { ok: false, message: /\/proc\/meminfo has no MemAvailable/ });
  t.match(noAvailable['app-disks:disk:/'], { ok: false }, 'the mounts are still judged');

  fake.reply = () => ({ hang: true });
  const hung = await runAgainst(t, fake, { ...probe(), timeoutMs: 300 });
  t.match(hung['app-disks'], { ok: false, message: /^df on app-1 did not finish within/ });
});

t.test('an unreachable host is the host: finding', async (t) => {
  const fake = await startSshServer(t);
  await fake.close();
  const f = await runAgainst(t, fake);
  t.same(Object.keys(f), ['host:app-1']);
  t.match(f['host:app-1'], { ok: false });
});

t.test('what counts as a pseudo filesystem', async (t) => {
  t.ok(isPseudoMount('tmpfs', '/run', 100));
  t.ok(isPseudoMount('/dev/loop3', '/snap/lxd/123', 100), "snap's squashfs images are always full");
  t.ok(isPseudoMount('overlay', '/var/lib/docker/overlay2/x/merged', 100));
  t.ok(isPseudoMount('/dev/sdc', '/mnt/empty', 0), 'a filesystem of 0 blocks');
  t.notOk(isPseudoMount('/dev/sda1', '/', 100));
  t.notOk(isPseudoMount('/dev/sdb1', '/data', 100));
  t.notOk(isPseudoMount('/dev/sdb1', '/devices', 100), 'a prefix is a whole path component');
  const parsed = parseHostOutput(HOST_OUTPUT);
  t.same(parsed.mounts.map((m) => m.mount), ['/', '/boot/efi', '/var/lib/postgresql data']);
  t.same(parsed.problems, []);
});
