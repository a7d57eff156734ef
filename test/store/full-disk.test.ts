// A store on a filesystem that fills up (a real 1 MiB tmpfs): the incident that starts and ends while
// writes fail is still paged and logged from memory, /healthz says 503, and once space is back it is
// written to the store without a second page.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import t from 'tap';
import { Daemon } from '../../src/daemon.js';
import { Target } from '../e2e/alerts-fleet.js';
import { httpTestProbe, testConfig } from '../helpers/config.js';
import { FakeDiscord } from '../helpers/fake-discord.js';
import { unusedPort } from '../helpers/http-servers.js';
import { waitFor } from '../helpers/vigil-process.js';

/** Writes zeros into `file` until the filesystem has no byte left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [65_536, 4_096, 512, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

t.test('full disk: paged from memory, 503 on /healthz, written back without a second page', { timeout: 90_000 }, async (t) => {
  // Not tmpDir(): the directory can only go once the filesystem on it is unmounted, after the daemon closed it.
  const mnt = mkdtempSync(join(tmpdir(), 'vigil-fulldisk-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.ok(true, 'full disk', { skip: `cannot mount a tmpfs here (${mount.stderr.trim()}): this test needs root` });
    return;
  }
  let daemon: Daemon | null = null;
  t.teardown(async () => {
    await daemon?.stop().catch(() => undefined);
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const target = new Target(await unusedPort());
  await target.up();
  t.teardown(() => target.down());
  const file = join(mnt, 'vigil.db');
  const probe = { ...httpTestProbe({ id: 'backend-health', severity: 'S1', summary: 'Backend API down', url: `http://127.0.0.1:${target.port}/health` }), intervalMs: 200, timeoutMs: 1_000, failureThreshold: 1, successThreshold: 1 };
  const base = testConfig();
  const config = testConfig({
    store: { path: file, retentionMs: 86_400_000 },
    alerts: { ...base.alerts, discord: { errors: discord.webhook('errors'), warnings: discord.webhook('warnings'), ops: discord.webhook('ops') } },
    probes: [probe],
  });
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: 'info', base: null }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  daemon = await Daemon.start({ config, log, version: 'test', listen: false });
  const d = daemon;
  await waitFor(() => d.state.subjects.get('backend-health')?.ok === true, 15_000, () => 'the probe never passed');
  t.equal((await d.app.inject({ url: '/healthz' })).statusCode, 200);

  fill(join(mnt, 'filler'));
  await target.down();
  const opened = await waitFor(() => lines.find((l) => l.event === 'opened'), 15_000, () => JSON.stringify(lines.slice(-5)));
  t.equal(opened.msg, '[INCIDENT] S1 - Backend API down on production. Investigating.', 'logged by summary and severity');
  t.ok(d.store.writesFailing(), 'the store refused the opening');
  await waitFor(() => discord.accepted('ops').length >= 1 && discord.accepted('errors').length >= 1, 15_000, () => 'not paged');
  t.equal(discord.accepted('ops')[0]?.payload.content, '[INCIDENT] S1 - Backend API down on production. Investigating.', 'paged from memory');
  const health = await d.app.inject({ url: '/healthz' });
  t.equal(health.statusCode, 503, '/healthz says the store does not write');
  t.match((await d.app.inject({ url: '/metrics' })).body, /vigil_store_write_failures_total [1-9]/);
  const api = JSON.parse((await d.app.inject({ url: `/api/incidents/${opened.incident_id}` })).body);
  t.equal(api.state, 'open', 'the API reads the incident held in memory');

  await target.up();
  await waitFor(() => lines.find((l) => l.event === 'resolved'), 15_000, () => 'never resolved');
  await waitFor(() => discord.accepted('ops').length >= 2, 15_000, () => 'resolution not paged');
  t.ok(d.store.writesFailing(), 'still all in memory');
  const onDisk = new Database(file, { readonly: true });
  t.equal(onDisk.prepare('SELECT count(*) AS n FROM incidents').get()?.['n' as never], 0, 'nothing of it on disk yet');
  onDisk.close();

  rmSync(join(mnt, 'filler'));
  await waitFor(() => !d.store.writesFailing(), 15_000, () => 'never written back');
  t.equal((await d.app.inject({ url: '/healthz' })).statusCode, 200, 'healthy again');
  const incident = d.store.getIncident(opened.incident_id);
  t.equal(incident?.state, 'resolved');
  t.same(incident?.timeline.map((e) => e.event).slice(0, 2), ['opened', 'resolved'], 'the timeline written back whole');
  await new Promise((r) => setTimeout(r, 2_000)); // a second page would be on its way by now
  const pages = (name: string) => discord.accepted(name).map((a) => a.payload.content ?? a.payload.embeds?.[0]?.title);
  t.same(pages('ops').filter((p) => !String(p).startsWith('[REVIEW]')), ['[INCIDENT] S1 - Backend API down on production. Investigating.', `[RESOLVED] S1 - Backend API down on production. Resolved after ${/Resolved after ([^.]+)\./.exec(String(pages('ops')[1]))?.[1]}.`], '#ops: each once');
  t.equal(pages('errors').length, 2, '#errors: the opening and the resolution, once each');
  await d.stop();
  daemon = null;

  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.same(raw.prepare(`SELECT state, count(*) AS n FROM outbox GROUP BY state`).all(), [{ state: 'delivered', n: pages('ops').length + pages('errors').length }], 'every message stored as delivered');
  const again = await Daemon.start({ config, log, version: 'test', listen: false });
  daemon = again;
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal(discord.accepted('ops').length + discord.accepted('errors').length, pages('ops').length + pages('errors').length, 'a restart pages nothing again');
});
