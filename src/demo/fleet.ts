// Starts and stops the demo's peers (PostgreSQL, SSH host, HTTP services, Redis, the backup bucket) and makes them follow the fault timeline.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { COMPOSE_PROJECT, ComposeLogs, startDemoSshHost, type ContainerState, type DemoSshHost } from './ssh-host.js';
import { startHttpServices, type DemoHttpServices } from './http-services.js';
import { startDemoPostgres, type DemoPostgres } from './postgres.js';
import { startDemoRedis, type DemoRedis } from './redis.js';
import { startDemoBucket, type DemoBucket } from './s3.js';
import { activeFaults, FAULT_KINDS, faultOf, type Fault, type FaultKind, type Timeline } from './timeline.js';

export const COMPOSE_DIR = `/home/ubuntu/services/${COMPOSE_PROJECT}`;
/** The demo's backups, as probes/demo.yaml's backup probe lists them. */
export const BACKUP_BUCKET = 'sartiq-snapshots';
export const BACKUP_PREFIX = 'snapshots/backend/production/';
export const BACKUP_SCHEDULE = '0 0,6,9,12,15,18,21 * * *';
/** Tasks that pile up each second while the worker is stuck. */
const QUEUE_GROWTH_PER_S = 3;
/** How often the fleet compares itself with the timeline; faults start and end this close to their time. */
const FOLLOW_MS = 200;

export interface FaultChange {
  fault: Fault;
  on: boolean;
  /** Real milliseconds since the timeline started. */
  atMs: number;
}

export interface FleetOptions {
  /** Working directory (exists); PostgreSQL's data goes under it. */
  dir: string;
  timeline: Timeline;
  speed: number;
  /** A fault took effect (on) or was undone (off). */
  onChange?: (change: FaultChange) => void;
  /** A fault could not be applied (it is retried); the demo shows it rather than dying. */
  onError?: (kind: FaultKind, err: Error) => void;
  /** PostgreSQL's own log lines. */
  onPostgresLog?: (line: string) => void;
}

export interface DemoFleet {
  pg: DemoPostgres;
  ssh: DemoSshHost;
  http: DemoHttpServices;
  redis: DemoRedis;
  bucket: DemoBucket;
  /** The Redis password (vigil reads it from the URL file the demo writes). */
  redisPassword: string;
  logs: ComposeLogs;
  containers(): ContainerState[];
  /** Faults in effect now. */
  applied(): ReadonlySet<FaultKind>;
  /** Starts following the timeline, with t = 0 now. */
  follow(): void;
  /** Stops following and closes every peer; PostgreSQL is stopped whatever else fails. */
  stop(): Promise<void>;
}

/** A port free on 127.0.0.1 right now (PostgreSQL must be told its port; it cannot report one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function startFleet(opts: FleetOptions): Promise<DemoFleet> {
  const applied = new Set<FaultKind>();
  const logs = new ComposeLogs();
  const containers = (): ContainerState[] => [
    { service: 'caddy', state: 'running', health: '' },
    { service: 'backend', state: 'running', health: 'healthy' },
    { service: 'scheduler', state: 'running', health: '' },
    { service: 'worker', state: 'running', health: applied.has('worker_unhealthy') ? 'unhealthy' : 'healthy' },
    { service: 'db', state: 'running', health: applied.has('db_stopped') ? 'unhealthy' : 'healthy' },
    { service: 'redis', state: 'running', health: 'healthy' },
    { service: 'compute', state: 'running', health: applied.has('compute_500') ? 'unhealthy' : 'healthy' },
  ];

  let pg: DemoPostgres | null = null;
  let ssh: DemoSshHost | null = null;
  let http: DemoHttpServices | null = null;
  let redis: DemoRedis | null = null;
  let bucket: DemoBucket | null = null;
  let stuckSince = 0;
  const redisPassword = randomBytes(12).toString('base64url');
  const lists = () => new Map([['celery', applied.has('queue_stuck') ? 5 + QUEUE_GROWTH_PER_S * Math.floor((Date.now() - stuckSince) / 1000) : 0]]);
  const closePeers = async () => {
    try {
      await http?.close();
      await ssh?.close();
      await redis?.close();
      await bucket?.close();
    } finally {
      await pg?.close();
    }
  };
  try {
    pg = await startDemoPostgres(join(opts.dir, 'postgres'), await freePort(), opts.onPostgresLog);
    redis = await startDemoRedis({ password: redisPassword, lists });
    bucket = await startDemoBucket({ bucket: BACKUP_BUCKET, prefix: BACKUP_PREFIX, schedule: BACKUP_SCHEDULE, late: () => applied.has('backup_late') });
    ssh = await startDemoSshHost({ compose: { dir: COMPOSE_DIR, containers, logs }, permitOpen: [pg.port, redis.port] });
    http = await startHttpServices({ databaseUrl: pg.appUrl, computeFailing: () => applied.has('compute_500'), logs });
  } catch (err) {
    await closePeers();
    throw err;
  }
  const peers = { pg, ssh, http, redis, bucket };

  let timer: NodeJS.Timeout | null = null;
  let startedAt = 0;
  let pass: Promise<void> | null = null;
  let following = false;

  /** Brings one fault to the wanted state; a fault that needs the database waits until it runs. */
  const apply = async (kind: FaultKind, on: boolean): Promise<boolean> => {
    switch (kind) {
      case 'db_stopped':
        await (on ? peers.pg.stop() : peers.pg.start());
        return true;
      case 'long_query':
        if (on && !peers.pg.running()) return false;
        await (on ? peers.pg.startLongQuery() : peers.pg.cancelLongQuery());
        return true;
      case 'queue_stuck':
        if (on) stuckSince = Date.now();
        return true;
      case 'compute_500':
      case 'worker_unhealthy':
      case 'backup_late':
        return true;
    }
  };

  const reconcile = async (): Promise<void> => {
    const elapsed = Date.now() - startedAt;
    const wanted = activeFaults(opts.timeline, elapsed, opts.speed);
    for (const kind of FAULT_KINDS) {
      if (!following) return;
      const on = wanted.has(kind);
      if (applied.has(kind) === on) continue;
      try {
        if (!(await apply(kind, on))) continue;
      } catch (err) {
        opts.onError?.(kind, err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (on) applied.add(kind);
      else applied.delete(kind);
      opts.onChange?.({ fault: faultOf(opts.timeline, kind), on, atMs: elapsed });
    }
  };

  return {
    ...peers,
    redisPassword,
    logs,
    containers,
    applied: () => applied,
    follow() {
      if (following) return;
      following = true;
      startedAt = Date.now();
      timer = setInterval(() => {
        // One pass at a time: stopping PostgreSQL takes longer than a tick.
        pass ??= reconcile().finally(() => {
          pass = null;
        });
      }, FOLLOW_MS);
    },
    async stop() {
      following = false;
      if (timer) clearInterval(timer);
      await pass?.catch(() => undefined);
      await closePeers();
    },
  };
}
