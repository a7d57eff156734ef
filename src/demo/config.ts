// Fills probes/demo.yaml with what exists only at start (ports, pinned host key, secret files) and compresses its durations by the speed.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { parseDuration } from '../duration.js';
import { BACKEND_HEALTH_PATH, COMPUTE_HEALTH_PATH } from './http-services.js';
import { DemoError } from './errors.js';

export const HOST_NAME = 'demo-backend';
export const DATABASE_NAME = 'backend-db';
export const REDIS_PROBE = 'backend-redis';
export const BACKUP_PROBE = 'backend-backups';

export interface DemoFill {
  listen: { host: string; port: number };
  storePath: string;
  sshPort: number;
  hostKeySha256: string;
  /** Paths of the files holding the secrets, relative to the filled config's directory. */
  dbUrlFile: string;
  sshKeyFile: string;
  redisUrlFile: string;
  s3EndpointFile: string;
  s3KeyIdFile: string;
  s3SecretFile: string;
  backendUrl: string;
  computeUrl: string;
  stagingComputeUrl: string;
  speed: number;
}

/** probes/demo.yaml, from src/demo/ when run from source and from dist/src/demo/ when compiled. */
export function templatePath(): string {
  const url = ['../../probes/demo.yaml', '../../../probes/demo.yaml'].map((rel) => new URL(rel, import.meta.url)).find((u) => existsSync(u));
  if (!url) throw new DemoError('probes/demo.yaml is missing from this checkout');
  return fileURLToPath(url);
}

/** Lower bounds after compression, so that a fast demo still gives a probe time to connect. */
const FLOOR_MS = { interval: 1_000, timeout: 800, window: 5_000, older_than: 1_000, stuck_after: 2_000 } as const;

function compressed(text: unknown, speed: number, floorMs: number): string | undefined {
  if (typeof text !== 'string') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) return undefined;
  return `${Math.max(floorMs, Math.round(ms / speed))}ms`;
}

/** Divides the durations that set the pace (interval, timeout, compose_logs window, older_than, stuck_after) by `speed`. */
function compress(doc: Document, speed: number): void {
  if (speed === 1) return;
  for (const key of ['interval', 'timeout'] as const) {
    const value = compressed(doc.getIn(['defaults', key]), speed, FLOOR_MS[key]);
    if (value) doc.setIn(['defaults', key], value);
  }
  const probes = doc.get('probes');
  if (!isSeq(probes)) return;
  for (const probe of probes.items) {
    if (!isMap(probe)) continue;
    for (const key of ['interval', 'timeout', 'window', 'older_than'] as const) {
      const value = compressed(probe.get(key), speed, FLOOR_MS[key]);
      if (value) probe.set(key, value);
    }
    const queues = probe.get('queues');
    for (const queue of isSeq(queues) ? queues.items : []) {
      if (!isMap(queue)) continue;
      const value = compressed(queue.get('stuck_after'), speed, FLOOR_MS.stuck_after);
      if (value) queue.set('stuck_after', value);
    }
  }
  // A floor may lift a timeout above a compressed interval; the loader refuses that, rightly.
  const interval = parseDuration(String(doc.getIn(['defaults', 'interval'])));
  const timeout = parseDuration(String(doc.getIn(['defaults', 'timeout'])));
  if (interval !== undefined && timeout !== undefined && timeout > interval) doc.setIn(['defaults', 'timeout'], `${interval}ms`);
}

function probeIndex(doc: Document, id: string): number {
  const probes = doc.get('probes');
  const index = isSeq(probes) ? probes.items.findIndex((p) => isMap(p) && p.get('id') === id) : -1;
  if (index < 0) throw new DemoError(`probes/demo.yaml has no probe "${id}"`);
  return index;
}

function setProbe(doc: Document, id: string, key: string, value: string): void {
  doc.setIn(['probes', probeIndex(doc, id), key], value);
}

/** Swaps a `*_env` secret for a `*_file` one, keeping its place in the mapping. */
function secretToFile(doc: Document, at: Array<string | number>, stem: string, file: string): void {
  const map = doc.getIn(at);
  if (!isMap(map)) throw new DemoError(`probes/demo.yaml has no ${at.join('.')}`);
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === `${stem}_env`);
  if (!pair || !isScalar(pair.key)) throw new DemoError(`probes/demo.yaml: ${at.join('.')} has no ${stem}_env`);
  pair.key.value = `${stem}_file`;
  pair.value = doc.createNode(file);
}

/** The template with the demo's values in place, as YAML text that keeps the template's comments. */
export function fillDemoConfig(template: string, fill: DemoFill): string {
  const doc = parseDocument(template);
  if (doc.errors.length > 0) throw new DemoError(`probes/demo.yaml does not parse: ${doc.errors[0]!.message}`);
  const base = `http://${fill.listen.host}:${fill.listen.port}`;
  doc.setIn(['server', 'listen'], `${fill.listen.host}:${fill.listen.port}`);
  doc.setIn(['server', 'public_url'], base);
  doc.setIn(['store', 'path'], fill.storePath);
  doc.setIn(['hosts', HOST_NAME, 'port'], fill.sshPort);
  doc.setIn(['hosts', HOST_NAME, 'host_key_sha256'], fill.hostKeySha256);
  secretToFile(doc, ['hosts', HOST_NAME], 'private_key', fill.sshKeyFile);
  secretToFile(doc, ['databases', DATABASE_NAME], 'url', fill.dbUrlFile);
  secretToFile(doc, ['probes', probeIndex(doc, REDIS_PROBE)], 'url', fill.redisUrlFile);
  const backups = ['probes', probeIndex(doc, BACKUP_PROBE)];
  secretToFile(doc, backups, 'endpoint', fill.s3EndpointFile);
  secretToFile(doc, backups, 'access_key_id', fill.s3KeyIdFile);
  secretToFile(doc, backups, 'secret_access_key', fill.s3SecretFile);
  setProbe(doc, 'backend-health', 'url', `${fill.backendUrl}${BACKEND_HEALTH_PATH}`);
  setProbe(doc, 'compute-health', 'url', `${fill.computeUrl}${COMPUTE_HEALTH_PATH}`);
  setProbe(doc, 'staging-compute-health', 'url', `${fill.stagingComputeUrl}${COMPUTE_HEALTH_PATH}`);
  compress(doc, fill.speed);
  const header = `# Filled in by vigil demo from probes/demo.yaml${fill.speed === 1 ? '' : ` at --speed ${fill.speed}`}; removed when the demo stops.\n`;
  return header + doc.toString({ lineWidth: 0 });
}

export function readTemplate(): string {
  return readFileSync(templatePath(), 'utf8');
}
