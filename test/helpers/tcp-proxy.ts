// A TCP relay in front of a test server that can go silent: a host that stops answering without closing anything.
import { once } from 'node:events';
import { type Socket, connect, createServer } from 'node:net';

interface HasTeardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface FreezableProxy {
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** From now on nothing passes either way and no connection is closed: packets simply stop. */
  freeze(): void;
}

export async function startFreezableProxy(t: HasTeardown, targetPort: number): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let accepted = 0;
  const server = createServer((inbound) => {
    accepted += 1;
    const outbound = connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.on('data', (chunk) => frozen || outbound.write(chunk));
    outbound.on('data', (chunk) => frozen || inbound.write(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as { port: number }).port,
    connections: () => accepted,
    freeze: () => {
      frozen = true;
    },
  };
}
