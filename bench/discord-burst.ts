// Benchmark (not a test): a burst of incident events through the real outbox and Discord sink into the
// strict fake Discord with a per-webhook budget; reports time to drain, share of 429s, lost and doubled pages.
// Usage: npm run build && node dist/bench/discord-burst.js [--events 200] [--limit 5] [--window 2s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseDuration } from '../src/duration.js';
import { createMetrics } from '../src/metrics.js';
import { Outbox } from '../src/notify/outbox.js';
import { route } from '../src/notify/route.js';
import { discordSink } from '../src/notify/sinks/discord.js';
import { openStore } from '../src/store/sqlite.js';
import type { IncidentEvent } from '../src/types.js';
import { FakeDiscord } from '../test/helpers/fake-discord.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200' }, limit: { type: 'string', default: '5' }, window: { type: 'string', default: '2s' } } });
const events = Number(values.events);
const limit = Number(values.limit);
const windowMs = parseDuration(values.window) ?? 2_000;

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-discord-'));
const discord = await new FakeDiscord({ limit, windowMs }).start();
const store = openStore(join(dir, 'vigil.db'));
const metrics = createMetrics('bench', { defaults: false });
const log = pino({ level: 'error' });
const webhooks = { ops: discord.webhook('ops'), errors: discord.webhook('errors'), warnings: discord.webhook('warnings') };
const outbox = new Outbox({ store, metrics, log, maxAgeMs: 3_600_000, pollMs: 1_000, sinks: new Map([['discord', discordSink({ webhooks, publicUrl: 'https://vigil.example.internal', log })]]) });

const at = Date.now();
const burst: IncidentEvent[] = Array.from({ length: events }, (_, i) => ({
  type: 'opened', at, incidentId: i + 1, severity: 'S1', environment: 'production', service: `svc-${i}`, probe: `probe-${i}`,
  findingKey: `probe-${i}`, summary: `Service ${i + 1} down`, message: 'connection refused', openedAt: at, durationMs: 0,
  respondBy: at + 1_800_000, evidence: 'x'.repeat(2_000), detail: 'connection refused',
}));
const channels = { discord: { errors: true, warnings: true, ops: true } };
store.apply({
  subjects: [], incidents: [], timeline: [], events: burst,
  messages: burst.flatMap((e) => route(e, channels).map((r) => ({ ...r, createdAt: at, incidentId: e.incidentId, event: e.type }))),
});
const expected = store.pendingCount();
const started = Date.now();
outbox.start();
const deadline = started + 15 * 60_000;
while (store.pendingCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
const drainMs = Date.now() - started;
await outbox.stop();

const ids = (name: string, pick: (p: Record<string, any>) => string) => discord.accepted(name).map((a) => Number(pick(a.payload).match(/Service (\d+) down/)?.[1]));
const opsIds = ids('ops', (p) => p.content);
const errorsIds = ids('errors', (p) => p.embeds[0].title);
const delivered = opsIds.length + errorsIds.length;
const inOrder = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
const requests = discord.requests.length;
const tooMany = discord.count(429);
const ideal = Math.max(0, Math.ceil(events / limit) - 1) * windowMs;
const result = {
  events,
  messages: expected,
  budget: `${limit} per ${windowMs} ms per webhook`,
  drain_seconds: Number((drainMs / 1000).toFixed(1)),
  ideal_seconds_per_webhook: ideal / 1000,
  requests,
  answered_429: tooMany,
  share_429_percent: Number(((100 * tooMany) / Math.max(1, requests)).toFixed(2)),
  delivered,
  lost: expected - new Set([...opsIds.map((i) => `o${i}`), ...errorsIds.map((i) => `e${i}`)]).size,
  doubled: delivered - new Set([...opsIds.map((i) => `o${i}`), ...errorsIds.map((i) => `e${i}`)]).size,
  in_order: inOrder(opsIds) && inOrder(errorsIds),
  refused_by_fake: discord.rejected.length,
};
console.log(JSON.stringify(result, null, 2));
store.close();
await discord.close();
rmSync(dir, { recursive: true, force: true });
