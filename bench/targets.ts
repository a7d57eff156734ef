// The benchmarks' HTTP targets, in a process of their own so that their CPU does not count against
// the process measured. Sends its ports to the parent; a path ending in /down answers a failing body.
import { createServer } from 'node:http';

const PORTS = 8;

const ports: number[] = [];
for (let i = 0; i < PORTS; i++) {
  const srv = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url?.endsWith('/down') ? '{"status":"down"}' : '{"status":"ok"}');
  });
  srv.keepAliveTimeout = 60_000;
  // Thousands of probes open fresh connections in bursts: a short accept queue would time them out.
  await new Promise<void>((r) => srv.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  ports.push((srv.address() as { port: number }).port);
}
process.send!({ ports });
process.on('disconnect', () => process.exit(0));
