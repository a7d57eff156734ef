// Shared by the alert e2e tests: a target that goes down and up, and a vigil config paging the fakes.
import { createServer, type Server } from 'node:http';

/** A health endpoint that can be taken down (connection refused) and brought back. */
export class Target {
  #server: Server | null = null;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    if (this.#server) return;
    const srv = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => srv.listen(this.port, '127.0.0.1', resolve));
    this.#server = srv;
  }
  async down(): Promise<void> {
    const srv = this.#server;
    this.#server = null;
    if (!srv) return;
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

export interface AlertsConfig {
  vigilPort: number;
  targetPort: number;
  dbPath: string;
  betterstackEndpoint?: string;
}

/**
 * One S2 probe that escalates to S1 after 2 s down, paging Discord through url_env and logging to Better Stack.
 * Every 2 s with a 2 s timeout: a fresh vigil's first runs of the healthy target took ~600 ms on a loaded
 * 2-core machine, and 400 ms timeouts turned such runs into failures (two in a row page, and the tests count
 * pages). The target going down is refused at once, whatever the timeout.
 */
export function alertsConfig(c: AlertsConfig): string {
  const betterstack = c.betterstackEndpoint
    ? `  betterstack:
    source_token_env: BETTERSTACK_SOURCE_TOKEN
    endpoint: ${c.betterstackEndpoint}
    heartbeat_url_env: BETTERSTACK_HEARTBEAT_URL
    heartbeat_interval: 1s
`
    : '';
  return `
server:
  listen: 127.0.0.1:${c.vigilPort}
  public_url: http://127.0.0.1:${c.vigilPort}
store:
  path: ${c.dbPath}
defaults:
  interval: 2s
  timeout: 2s
  failure_threshold: 2
  success_threshold: 2
environments:
  production: {}
alerts:
  discord:
    errors: { url_env: DISCORD_WEBHOOK_ERRORS }
    warnings: { url_env: DISCORD_WEBHOOK_WARNINGS }
    ops: { url_env: DISCORD_WEBHOOK_OPS }
${betterstack}probes:
  - id: backend-health
    type: http
    environment: production
    service: backend
    severity: S2
    summary: Backend API down
    url: http://127.0.0.1:${c.targetPort}/health
    expect: { json: { status: ok } }
    escalate: { after: 2s, severity: S1 }
`;
}

export async function api(port: number, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}
