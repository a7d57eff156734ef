// Benchmark (not a test): the cost of one run of each PostgreSQL probe against an embedded server —
// wall time and the TCP connections it opened (counted by a proxy in front of the server).
// Usage: npm run build && node dist/bench/pg-probes.js [--runs 50]
import { createConnection, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfigText } from '../src/config/load.js';
import { runProbe } from '../src/probes/index.js';
import { createTransports } from '../src/transport/index.js';
import { startPostgresServer } from '../test/helpers/pg.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
const runs = Number(args.runs);

const server = await startPostgresServer({ maxConnections: 100 });
// Some realistic company for the probes: 20 idle clients, one idle transaction.
const clients = await Promise.all(Array.from({ length: 20 }, () => server.connect()));
await clients[0]!.query('BEGIN');
await clients[0]!.query("SELECT 'x' AS a, 42 AS b");

let accepted = 0;
const sockets = new Set<Socket>();
const proxy = createServer((inbound) => {
  accepted++;
  const outbound = createConnection(server.port, '127.0.0.1');
  for (const s of [inbound, outbound]) {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  }
  inbound.pipe(outbound).pipe(inbound);
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyPort = (proxy.address() as { port: number }).port;

const config = loadConfigText(
  `
environments: { production: {} }
databases:
  main: { environment: production, url_env: MAIN_URL }
probes:
  - { id: ready, type: pg_ready, database: main }
  - { id: connections, type: pg_connections, database: main }
  - { id: long, type: pg_long_queries, database: main, older_than: 1m }
  - { id: depth, type: pg_query, database: main, sql: "SELECT count(*) FROM pg_stat_activity", warn: 1000 }
`,
  'bench.yaml',
  { MAIN_URL: server.monitorUrl.replace(`:${server.port}/`, `:${proxyPort}/`) },
);
const log = pino({ enabled: false });
const transports = createTransports(config, log);

const rows: string[] = [];
for (const probe of config.probes) {
  const times: number[] = [];
  const before = accepted;
  let firstConnections = 0;
  for (let i = 0; i < runs; i++) {
    const at = accepted;
    const started = performance.now();
    const run = await runProbe(probe, AbortSignal.timeout(probe.timeoutMs), log, transports);
    times.push(performance.now() - started);
    if (i === 0) firstConnections = accepted - at;
    if (!run.findings.every((f) => f.ok)) throw new Error(`${probe.id} failed: ${run.findings.map((f) => f.message).join('; ')}`);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
  const perRun = ((accepted - before) / runs).toFixed(2);
  rows.push(`${probe.type.padEnd(16)} ${pct(0.5).padStart(8)} ${pct(0.95).padStart(8)} ${times[times.length - 1]!.toFixed(2).padStart(8)} ${String(firstConnections).padStart(11)} ${perRun.padStart(13)}`);
}

console.log(`PostgreSQL ${(await clients[1]!.query('SHOW server_version')).rows[0].server_version}, ${runs} runs per probe, 21 other clients, Node ${process.version}`);
console.log(`${'probe'.padEnd(16)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'1st run conn'.padStart(11)} ${'conn per run'.padStart(13)}`);
for (const r of rows) console.log(r);

await transports.close();
for (const s of sockets) s.destroy();
await new Promise<void>((resolve) => proxy.close(() => resolve()));
await server.close();
