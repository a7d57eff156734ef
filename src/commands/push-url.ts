// `vigil push-url ID`: the curl line a cron job runs to send the push probe's heartbeat (token read from the configured env/file).
import type { Config } from '../config/types.js';
import { EXIT_CONFIG, loadOrReport } from './config.js';
import { EXIT_USAGE } from './incident-api.js';

/** Everything outside RFC 3986's unreserved set is escaped, `'` included, so the URL sits safely in single quotes. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The daemon's base URL as a job reaches it: server.public_url, else the listen address (a wildcard one as 127.0.0.1). */
export function pushBaseUrl(config: Config): string {
  if (config.server.publicUrl) return config.server.publicUrl.replace(/\/+$/, '');
  const wildcard = config.server.host === '0.0.0.0' || config.server.host === '::' || config.server.host === '';
  const host = wildcard ? '127.0.0.1' : config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return `http://${host}:${config.server.port}`;
}

export function pushCurlLine(config: Config, id: string): string | { error: string } {
  const probe = config.probes.find((p) => p.id === id);
  if (!probe) return { error: `no probe "${id}" in ${config.file}` };
  if (probe.spec.type !== 'push') return { error: `probe "${id}" is not a push probe (type ${probe.spec.type})` };
  const token = probe.secrets?.token;
  if (token === undefined) return { error: `probe "${id}" has no token` };
  const url = `${pushBaseUrl(config)}/api/push/${encode(id)}?token=${encode(token)}`.replace(/'/g, '%27');
  return `curl -fsS -X POST '${url}'`;
}

export async function pushUrlCommand(path: string, args: { id: string | undefined }): Promise<number> {
  if (args.id === undefined || args.id === '') {
    process.stderr.write('usage: vigil push-url ID\n');
    return EXIT_USAGE;
  }
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const line = pushCurlLine(config, args.id);
  if (typeof line !== 'string') {
    process.stderr.write(`vigil: ${line.error}\n`);
    return 1;
  }
  if (!config.server.publicUrl) {
    process.stderr.write(`vigil: server.public_url is not set in ${config.file}; the line uses the listen address, reachable from this machine only if it listens beyond it\n`);
  }
  process.stdout.write(`${line}\n`);
  return 0;
}
