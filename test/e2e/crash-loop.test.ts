// End to end: the real `vigil run` is SIGKILLed at a random point of each of 10 open → ack → resolve
// cycles against the strict fake Discord. Every page arrives (0 lost), in order per channel, and a
// kill costs at most one duplicate per channel: the delivery promise the README states.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DISCORD_CHANNELS_YAML, FakeDiscord, type Accepted } from '../helpers/fake-discord.js';
import { tmpDir } from '../helpers/tmp.js';
import { VigilProcess, freePort, waitFor } from '../helpers/vigil-process.js';

const CYCLES = 10;
const TOKEN = 'crash-loop-token-3f9a';
/**
 * Every probe but the one in its cycle watches a healthy target, and a false failure of one pages it out
 * of order. Each restart's first runs took ~600 ms on a loaded 2-core machine; with 250 ms timeouts and a
 * threshold of 1 they opened (and paged) incidents on the healthy probes after every kill. 1 s timeouts
 * and two failures in a row let them through; the probe taken down answers 503 at once.
 */
const INTERVAL_MS = 1_000;
t.setTimeout(420_000);

// The 10 killed cycles took about 130 s on a loaded 2-core machine (both cores busy besides); the bound only catches a hang.
t.test(`SIGKILL at random points over ${CYCLES} open/ack/resolve cycles: nothing lost, at most one duplicate per kill`, { timeout: 900_000 }, async (t) => {
  const dir = tmpDir(t, 'vigil-crashloop-');
  const down = new Set<number>();
  const fleet = createServer((req, res) => {
    const n = Number(/^\/p\/(\d+)$/.exec(req.url ?? '')?.[1]);
    res.statusCode = down.has(n) ? 503 : 200;
    res.end(down.has(n) ? 'down' : 'ok');
  });
  await new Promise<void>((resolve) => fleet.listen(0, '127.0.0.1', resolve));
  t.teardown(() => fleet.close());
  const fleetPort = (fleet.address() as AddressInfo).port;
  const discord = await new FakeDiscord().start();
  t.teardown(() => discord.close());
  const port = await freePort();
  const file = join(dir, 'vigil.yaml');
  const probes = Array.from({ length: CYCLES }, (_, i) => `  - { id: p${i}, type: http, environment: production, service: svc${i}, severity: S2, summary: Probe ${i} down, url: "http://127.0.0.1:${fleetPort}/p/${i}" }`);
  writeFileSync(
    file,
    `server: { listen: 127.0.0.1:${port}, public_url: http://127.0.0.1:${port}, api_token_env: VIGIL_API_TOKEN }
store: { path: ${join(dir, 'vigil.db')} }
defaults: { interval: ${INTERVAL_MS}ms, timeout: ${INTERVAL_MS}ms, failure_threshold: 2, success_threshold: 1 }
environments: { production: {} }
${DISCORD_CHANNELS_YAML}
probes:
${probes.join('\n')}
`,
  );
  const env = { VIGIL_API_TOKEN: TOKEN, ...discord.channelEnv() };
  let vigil = new VigilProcess(['run', '--config', file], env);
  t.teardown(() => vigil.kill('SIGKILL'));
  await vigil.ready(port, 60_000);

  let kills = 0;
  const killAndRestart = async () => {
    vigil.kill('SIGKILL');
    await vigil.exited;
    kills++;
    const next = (vigil = new VigilProcess(['run', '--config', file], env));
    let up = false;
    const gone = next.exited.then((exit) => {
      if (!up) throw new Error(`the restarted vigil exited (${JSON.stringify(exit)}): ${next.stdout.slice(-2_000)}`);
    });
    await Promise.race([next.ready(port, 90_000), gone]);
    up = true;
  };
  /** The API through kills: a refused connection is retried until the daemon is back. */
  const call = async (path: string, init?: RequestInit): Promise<{ status: number; body: any }> =>
    waitFor(async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
        return { status: res.status, body: await res.json() };
      } catch {
        return null;
      }
    }, 90_000, () => `no answer from ${path}`);

  const delays: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    // Anywhere in the cycle (opened within two intervals, resolved within one after the ack): before
    // the opening, while it is paged, around the ack or the resolution.
    const delay = Math.floor(Math.random() * 3 * INTERVAL_MS);
    delays.push(delay);
    const killed = new Promise((r) => setTimeout(r, delay)).then(killAndRestart);
    down.add(i);
    const open = await waitFor(async () => (await call('/api/incidents?state=open')).body.incidents.find((x: any) => x.root_probe === `p${i}`), 90_000, () => `p${i} never opened`);
    await waitFor(async () => {
      const ack = await call(`/api/incidents/${open.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ by: 'ana' }) });
      return ack.status === 200 || ack.status === 409; // 409: the ack made it before a kill
    }, 90_000);
    down.delete(i);
    await waitFor(async () => (await call(`/api/incidents/${open.id}`)).body.state === 'resolved', 90_000, () => `#${open.id} never resolved`);
    await killed;
  }
  t.comment(`kill delays (ms): ${delays.join(', ')}`);

  const summaryOf = (a: Accepted) => /Probe (\d+) down/.exec(String(a.payload.content ?? a.payload.embeds?.[0]?.title))?.[1];
  const kindOf = (a: Accepted, channel: string) =>
    channel === 'ops' ? /^\[(\w+)\]/.exec(String(a.payload.content))?.[1] : String(a.payload.embeds?.[0]?.title).startsWith('Resolved') ? 'resolved' : 'opened';
  const expected: Record<string, string[]> = { ops: ['INCIDENT', 'ACK', 'RESOLVED'], errors: ['opened', 'resolved'] };
  await waitFor(async () => {
    const all = Object.entries(expected).every(([channel, kinds]) => Array.from({ length: CYCLES }, (_, i) => kinds.every((k) => discord.accepted(channel).some((a) => summaryOf(a) === String(i) && kindOf(a, channel) === k))).every(Boolean));
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    return all && /vigil_outbox_pending 0/.test(metrics);
  }, 90_000, () => `not everything arrived: ${JSON.stringify(discord.accepted('ops').map((a) => a.payload.content))}`);
  await new Promise((r) => setTimeout(r, 1_500)); // room for a late duplicate to show

  for (const [channel, kinds] of Object.entries(expected)) {
    const accepted = discord.accepted(channel).filter((a) => kinds.includes(kindOf(a, channel) ?? ''));
    let duplicates = 0;
    for (let i = 0; i < CYCLES; i++) {
      const mine = accepted.filter((a) => summaryOf(a) === String(i)).map((a) => kindOf(a, channel)!);
      for (const k of kinds) {
        const n = mine.filter((m) => m === k).length;
        t.ok(n >= 1, `#${channel} p${i} ${k}: not lost`);
        duplicates += Math.max(0, n - 1);
      }
      const firsts = kinds.map((k) => mine.indexOf(k));
      t.same(firsts, [...firsts].sort((a, b) => a - b), `#${channel} p${i}: ${kinds.join(' → ')} in order`);
    }
    t.ok(duplicates <= kills, `#${channel}: ${duplicates} duplicates for ${kills} kills`);
  }
  t.equal(discord.rejected.length, 0, 'nothing refused by the strict fake');
  vigil.kill('SIGTERM');
  t.same(await vigil.exited, { code: 0, signal: null });
});
