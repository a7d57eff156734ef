// The demo's HTTP services: a fake backend whose health check really queries the demo database, and a compute API that answers 500 on cue.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pg from 'pg';
import type { ComposeLogs } from './ssh-host.js';

export const BACKEND_HEALTH_PATH = '/api/v1/utils/health-check/';
export const COMPUTE_HEALTH_PATH = '/health';

export interface HttpServicesOptions {
  /** The backend's own database URL: its health check connects and runs SELECT 1, as the real one does. */
  databaseUrl: string;
  /** Whether the compute API is failing right now (the timeline's compute_500). */
  computeFailing: () => boolean;
  logs: ComposeLogs;
}

export interface DemoHttpServices {
  backendUrl: string;
  computeUrl: string;
  stagingComputeUrl: string;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as { port: number }).port };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** uvicorn's access line, which is what the real services print. */
function accessLine(req: IncomingMessage, status: number): string {
  const reason = status === 200 ? 'OK' : status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Internal Server Error';
  return `INFO:     ${req.socket.remoteAddress ?? '127.0.0.1'}:${req.socket.remotePort ?? 0} - "${req.method} ${req.url} HTTP/1.1" ${status} ${reason}`;
}

/** The database answers SELECT 1 within a second, or the reason it does not. */
async function databaseProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000, query_timeout: 1_000, application_name: 'sartiq-backend' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ECONNREFUSED' ? 'connection refused' : ((err as Error).message || 'no answer');
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startHttpServices(opts: HttpServicesOptions): Promise<DemoHttpServices> {
  const started: Server[] = [];
  const close = async () => {
    await Promise.all(
      started.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  };
  try {
    const backend = await listen((req, res) => {
      if (req.url !== BACKEND_HEALTH_PATH) {
        opts.logs.write('backend', accessLine(req, 404));
        return reply(res, 404, { detail: 'Not Found' });
      }
      void databaseProblem(opts.databaseUrl).then((problem) => {
        if (problem === null) {
          opts.logs.write('backend', accessLine(req, 200));
          return reply(res, 200, true);
        }
        opts.logs.write('backend', `ERROR:    health check failed: could not connect to the database: ${problem}`);
        opts.logs.write('backend', accessLine(req, 503));
        reply(res, 503, { detail: 'database unavailable' });
      });
    });
    started.push(backend.server);
    const compute = (environment: string) => (req: IncomingMessage, res: ServerResponse) => {
      if (req.url !== COMPUTE_HEALTH_PATH) return reply(res, 404, { detail: 'Not Found' });
      if (opts.computeFailing()) {
        opts.logs.write('compute', `ERROR:    Exception in ASGI application (${environment})`);
        opts.logs.write('compute', 'Traceback (most recent call last):');
        opts.logs.write('compute', 'RuntimeError: model worker pool exhausted');
        opts.logs.write('compute', accessLine(req, 500));
        return reply(res, 500, { detail: 'Internal Server Error' });
      }
      opts.logs.write('compute', accessLine(req, 200));
      reply(res, 200, { status: 'ok', environment });
    };
    const production = await listen(compute('production'));
    started.push(production.server);
    const staging = await listen(compute('staging'));
    started.push(staging.server);
    return {
      backendUrl: `http://127.0.0.1:${backend.port}`,
      computeUrl: `http://127.0.0.1:${production.port}`,
      stagingComputeUrl: `http://127.0.0.1:${staging.port}`,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
