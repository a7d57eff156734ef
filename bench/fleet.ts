// What the fleet benchmarks share: the fleet's config and the daemon under measurement, with the
// targets and the meters of measure.ts (imported from there: this module loads the daemon).
import { loadConfigText } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { CONCURRENCY, targetPath, targetPort, type Meter } from './measure.js';

export interface FleetSpec {
  probes: number;
  /** As in the config, e.g. "10s". */
  interval: string;
  ports: readonly number[];
  storePath: string;
  /** Listen on an ephemeral port (for requests from outside); else the app is only built. */
  listen?: boolean;
  /** store.retention, e.g. "90d" (the default when absent). */
  retention?: string;
}

export function fleetYaml(spec: FleetSpec): string {
  const probes = Array.from(
    { length: spec.probes },
    (_, i) =>
      `  - { id: p${i}, type: http, environment: bench, service: svc${i % 20}, url: "http://127.0.0.1:${targetPort(spec.ports, i)}${targetPath(i)}", expect: { json: { status: ok } } }`,
  );
  return `server: { listen: "127.0.0.1:0" }
store: { path: ${spec.storePath}${spec.retention ? `, retention: ${spec.retention}` : ''} }
defaults: { interval: ${spec.interval}, timeout: 5s, concurrency: ${CONCURRENCY} }
environments: { bench: {} }
probes:
${probes.join('\n')}
`;
}

/** Starts the real daemon on the fleet, silent, with its scheduler lag going to `meter`. */
export async function startFleetDaemon(spec: FleetSpec, meter: Meter): Promise<Daemon> {
  const config = loadConfigText(fleetYaml(spec), 'bench.yaml', {});
  const log = createLogger({ level: 'silent' });
  return Daemon.start({ config, log, version: 'bench', listen: spec.listen ?? false, onLag: meter.onLag });
}
