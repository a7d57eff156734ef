// A fake Better Stack (logs ingest + heartbeats) in its own process: the pino transport blocks the
// process that logs while it flushes, so the peer must not live there. Started with fork(); it
// reports what it received over IPC and takes commands the same way: {mode: 'up' | 'down'}, and
// {script: {kind: 'heartbeat' | 'ingest', statuses: [429, 413, …]}} for the next requests of a kind.
// Strict like the real one: logs are POSTed to / with the source token as a bearer, msgpack and gzip;
// a heartbeat is GET, HEAD or POST /api/v1/heartbeat/<id> (or …/<id>/fail, …/<id>/<exit code>) of a
// heartbeat that exists, else 404; another method is refused.
// Usage: fork('fake-betterstack.mjs', [sourceToken, JSON.stringify(heartbeatIds)])
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decode } from '@msgpack/msgpack';

const token = process.argv[2] ?? 'test-token';
const heartbeats = new Set(JSON.parse(process.argv[3] ?? '["hb-secret-123"]'));
const HEARTBEAT = /^\/api\/v1\/heartbeat\/([^/?]+)(?:\/(fail|\d{1,3}))?$/;
const HEARTBEAT_METHODS = new Set(['GET', 'HEAD', 'POST']);
let mode = 'up';
const scripted = { heartbeat: [], ingest: [] };

process.on('message', (msg) => {
  if (msg && typeof msg.mode === 'string') mode = msg.mode;
  if (msg && msg.script) scripted[msg.script.kind].push(...msg.script.statuses);
  process.send?.({ type: 'mode', mode });
});

/** A scripted answer as Better Stack gives it: 429 with Retry-After, 413 for a body over the limit. */
function answerScripted(res, status) {
  if (status === 429) return res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"errors":"Too Many Requests"}');
  if (status === 413) return res.writeHead(413, { 'content-type': 'application/json' }).end('{"errors":"Payload Too Large"}');
  return res.writeHead(status).end();
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0];
    if (path.startsWith('/api/v1/heartbeat/')) {
      const match = HEARTBEAT.exec(path);
      const id = match ? decodeURIComponent(match[1]) : null;
      const report = (status) => process.send?.({ type: 'heartbeat', at: Date.now(), method: req.method, id, failed: Boolean(match?.[2]), status });
      if (!match || !heartbeats.has(id)) {
        report(404);
        return res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":"Resource not found"}');
      }
      if (!HEARTBEAT_METHODS.has(req.method)) {
        report(405);
        return res.writeHead(405, { allow: 'GET, HEAD, POST' }).end();
      }
      const next = scripted.heartbeat.shift();
      if (next !== undefined) {
        report(next);
        return answerScripted(res, next);
      }
      const status = mode === 'down' ? 503 : 200;
      report(status);
      res.writeHead(status).end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (mode === 'down') {
      process.send?.({ type: 'refused', at: Date.now() });
      res.writeHead(503).end('unavailable');
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      process.send?.({ type: 'unauthorized', at: Date.now() });
      res.writeHead(403).end('Unauthorized');
      return;
    }
    const next = scripted.ingest.shift();
    if (next !== undefined) {
      process.send?.({ type: 'scripted', at: Date.now(), status: next });
      return answerScripted(res, next);
    }
    try {
      if (req.method !== 'POST' || path !== '/') throw new Error(`logs are POSTed to /, got ${req.method} ${path}`);
      if (req.headers['content-type'] !== 'application/msgpack' || req.headers['content-encoding'] !== 'gzip') throw new Error(`unexpected encoding ${req.headers['content-type']} ${req.headers['content-encoding']}`);
      const records = decode(gunzipSync(body));
      if (!Array.isArray(records)) throw new Error('a batch must be an array');
      process.send?.({ type: 'batch', at: Date.now(), records: JSON.parse(JSON.stringify(records)) });
      res.writeHead(202).end();
    } catch (err) {
      process.send?.({ type: 'bad', error: String(err) });
      res.writeHead(400).end(String(err));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
