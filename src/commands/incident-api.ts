// The client side of the daemon's API for `vigil ack`, `resolve`, `note` and `silence`: one request, the answer or the server's error.
import type { Config } from '../config/types.js';
import type { IncidentJson } from '../server/serialize.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** EX_USAGE from sysexits.h, as `vigil` itself uses for bad arguments. */
export const EXIT_USAGE = 64;

export type WriteAction = 'ack' | 'resolve' | 'notes';

export type WriteAnswer =
  | { ok: true; incident: IncidentJson }
  | { ok: false; status: number | null; code: string; message: string };

/** Where the running daemon answers: config.server.listen, with a wildcard address read as loopback. */
export function daemonUrl(config: Pick<Config, 'server'>): string {
  const { host, port } = config.server;
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The bearer token: $VIGIL_API_TOKEN, else what the config's server.api_token_env resolved to. */
export function apiToken(config: Pick<Config, 'server'>, env: NodeJS.ProcessEnv = process.env): string | null {
  return env.VIGIL_API_TOKEN || config.server.apiToken || null;
}

export type ApiAnswer = { ok: true; status: number; json: unknown } | { ok: false; status: number | null; code: string; message: string };

/** One request to the daemon's API; never throws: an unreachable daemon is an answer too. The token never appears in it. */
export async function callApi(
  config: Pick<Config, 'server'>,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body: Record<string, unknown> | null,
  token: string | null,
): Promise<ApiAnswer> {
  const url = `${daemonUrl(config)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...(body === null ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === null ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    const why = cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'TimeoutError' ? 'no answer in 10s' : cause;
    return { ok: false, status: null, code: 'unreachable', message: `cannot reach the vigil daemon at ${daemonUrl(config)} (${why}); is \`vigil run\` running with this config?` };
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (res.ok && json !== null && typeof json === 'object') return { ok: true, status: res.status, json };
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : 'http_error';
  let message = typeof error?.message === 'string' ? error.message : `HTTP ${res.status} from ${url}`;
  if (res.status === 401 && !token) message += ' (set $VIGIL_API_TOKEN)';
  return { ok: false, status: res.status, code, message };
}

/** Sends one incident write (ack, resolve, note) and reads the incident back. */
export async function postIncidentWrite(
  config: Pick<Config, 'server'>,
  id: number,
  action: WriteAction,
  body: Record<string, string>,
  token: string | null,
): Promise<WriteAnswer> {
  const answer = await callApi(config, 'POST', `/api/incidents/${id}/${action}`, body, token);
  if (!answer.ok) return answer;
  if ('id' in (answer.json as object)) return { ok: true, incident: answer.json as IncidentJson };
  return { ok: false, status: answer.status, code: 'http_error', message: `unexpected answer from ${daemonUrl(config)}` };
}

/** Prints the outcome the way every write command does and returns its exit code (0, or 1 on any error). */
export function report(answer: WriteAnswer, success: (incident: IncidentJson) => string): number {
  if (answer.ok) {
    process.stdout.write(`${success(answer.incident)}\n`);
    return 0;
  }
  process.stderr.write(`vigil: ${answer.message}${answer.status === null ? '' : ` (HTTP ${answer.status} ${answer.code})`}\n`);
  return 1;
}

export const describeIncident = (i: IncidentJson): string => `#${i.id} ${i.severity} ${i.summary} on ${i.environment}`;

/** An incident id from the command line, or null. */
export function incidentId(text: string | undefined): number | null {
  return text !== undefined && /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : null;
}
