// A fake Better Stack (logs ingest + heartbeat) in its own process: the pino transport blocks the
// process that logs while it flushes, so the peer must not live there. Started with fork(); it
// reports what it received over IPC and takes commands ({mode: 'up' | 'down'}) the same way.
// Usage: fork('fake-betterstack.mjs', [sourceToken])
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decode } from '@msgpack/msgpack';

const token = process.argv[2] ?? 'test-token';
let mode = 'up';

process.on('message', (msg) => {
  if (msg && typeof msg.mode === 'string') mode = msg.mode;
  process.send?.({ type: 'mode', mode });
});

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url?.startsWith('/heartbeat/')) {
      process.send?.({ type: 'heartbeat', at: Date.now(), method: req.method, path: req.url });
      res.writeHead(mode === 'down' ? 503 : 200).end('OK');
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
    try {
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
