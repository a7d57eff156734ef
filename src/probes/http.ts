// The `http` probe: a fresh connection per run, every phase bounded by the probe's timeout, redirects, expectations, TLS expiry.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { buildConnector, Client, type Dispatcher } from 'undici';
import type { HttpProbeConfig } from '../config/schema.js';
import type { ResolvedProbe } from '../config/types.js';
import type { Finding } from '../types.js';
import type { ProbeContext, ProbeFn } from './contract.js';
import {
  BODY_LIMIT_BYTES,
  type Phase,
  type ResponseExcerpt,
  TlsRejectedError,
  checkExpectations,
  describeError,
  displayUrl,
  expectedStatusText,
  type FinalResponse,
  formatLatency,
  isTimeoutError,
  latencyFinding,
  makeRedactor,
  responseEvidence,
  seconds,
  statusLine,
  timeoutMessage,
} from './http-report.js';
import { p99Finding } from './latency-window.js';
import { type PeerCertificate, certificateEvidence, readPeerCertificate, tlsExpiryFinding } from './tls-cert.js';

export type HttpProbe = ResolvedProbe & { spec: HttpProbeConfig };

export interface HttpProbeOptions {
  /** PEM certificates trusted instead of the system store (Node's `ca` semantics); e.g. a private CA. */
  ca?: string[];
}

export { BODY_LIMIT_BYTES };
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'vigil';

/**
 * What a run's connections and unread bodies are closed with once it has its answer. Made once, its
 * stack already formatted: closed without one, undici makes a new error per run (and Node's stream
 * code formats its stack), on a path that is no failure at all. Nobody is shown it.
 */
class RunOverError extends Error {
  readonly code = 'VIGIL_ERR_HTTP_RUN_OVER';
  constructor() {
    super('http probe run over: connection closed');
    this.name = 'RunOverError';
  }
}
const RUN_OVER = new RunOverError();
void RUN_OVER.stack;
const ignore = (): undefined => undefined;

interface RunState {
  phase: Phase;
  /** host:port of the hop in flight, for messages. */
  target: string;
  host: string;
  /** The certificate of the last TLS connection of this run, accepted or not. */
  certificate: PeerCertificate | null;
  /** What had arrived when a run failed mid-response, for evidence. */
  partial: { status: number; headers: ResponseExcerpt['headers']; chunks: Buffer[] } | null;
  url: URL;
}

type Exchange = { kind: 'response'; response: FinalResponse } | { kind: 'redirect-failure'; message: string; evidence: string; status: number };

/**
 * What a probe's runs share, made at its first run and kept while the config holds the same probe
 * object (a reload makes new ones): the parsed URL, the headers, the redactor, the connector. None of
 * it holds a connection: the connector keeps no TLS sessions (maxCachedSessions 0), so every run
 * still handshakes in full.
 */
interface Prepared {
  url: URL;
  /** Path and query of the first hop. */
  path: string;
  target: string;
  /** Headers for hops to the configured origin (secrets included), and for every other origin. */
  originHeaders: Record<string, string>;
  otherHeaders: Record<string, string>;
  redact: (text: string) => string;
  connector: buildConnector.connector;
}

function prepare(probe: HttpProbe, connectors: Map<number, buildConnector.connector>, options: HttpProbeOptions): Prepared {
  let connector = connectors.get(probe.timeoutMs);
  if (!connector) {
    // rejectUnauthorized is enforced by trackingConnector after it has read the certificate.
    connector = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0, timeout: probe.timeoutMs, ...(options.ca ? { ca: options.ca } : {}) });
    connectors.set(probe.timeoutMs, connector);
  }
  const url = new URL(probe.spec.url);
  const { base, secret, secrets } = requestHeaders(probe, url);
  return {
    url,
    path: url.pathname + url.search,
    target: hostPort(url),
    originHeaders: { ...base, ...secret },
    otherHeaders: base,
    redact: makeRedactor(secrets),
    connector,
  };
}

/**
 * Why a fresh Client per run (and per redirect hop) rather than a shared keep-alive pool: a probe must
 * measure what a new client meets (DNS, TCP accept, TLS handshake, the certificate served now),
 * exactly as blackbox_exporter does; the per-run connector also tells us which phase a timeout hit
 * and which certificate this run saw. A Client holds one connection; each is destroyed when its hop or
 * the run ends, so no socket outlives the run and no run or hop reuses another's connection.
 */
export function createHttpProbe(options: HttpProbeOptions = {}): ProbeFn<HttpProbe> {
  const prepared = new WeakMap<HttpProbe, Prepared>();
  // One connector per timeout, shared by the probes that have it: it keeps nothing between connections.
  const connectors = new Map<number, buildConnector.connector>();
  return async (probe, ctx) => {
    let ready: Prepared | undefined;
    try {
      ready = prepared.get(probe);
      if (!ready) prepared.set(probe, (ready = prepare(probe, connectors, options)));
      return await runHttpProbe(probe, ready, ctx);
    } catch (err) {
      const redact = ready?.redact ?? makeRedactor(Object.values(probe.headers));
      return [{ key: probe.id, ok: false, message: redact(`http probe failed unexpectedly: ${(err as Error)?.message ?? String(err)}`) }];
    }
  };
}

export const httpProbe: ProbeFn<HttpProbe> = createHttpProbe();

async function runHttpProbe(probe: HttpProbe, ready: Prepared, ctx: ProbeContext): Promise<Finding[]> {
  const { spec } = probe;
  const start = ctx.now();
  const budgetMs = probe.timeoutMs;
  // One controller for the run: aborted by its own deadline or by the caller's signal.
  const controller = new AbortController();
  const { signal } = controller;
  let pastDeadline = false;
  // undici settles a request aborted mid-connect only when its connector gives up (after the connect
  // timeout), so the run stops at the abort itself; the finally block then destroys the socket.
  let stop: (reason: unknown) => void = ignore;
  const stopped = new Promise<never>((_resolve, reject) => (stop = reject));
  const abort = (reason?: unknown): void => {
    controller.abort(reason);
    stop(signal.reason);
  };
  const timer = setTimeout(() => {
    pastDeadline = true;
    abort();
  }, budgetMs);
  const onAbort = (): void => abort(ctx.signal.reason);
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  const firstUrl = ready.url;
  const { redact } = ready;
  const run: RunState = { phase: 'connect', target: ready.target, host: firstUrl.hostname, certificate: null, partial: null, url: firstUrl };
  // A Client per hop, so each hop makes a new connection without asking undici to reset it (which
  // costs an error per request); the run closes them all when it ends.
  const clients: Client[] = [];
  const connect = trackingConnector(ready.connector, run);
  const newClient = (origin: string): Client => {
    const client = new Client(origin, { connect, headersTimeout: budgetMs, bodyTimeout: budgetMs });
    clients.push(client);
    return client;
  };
  const findings: Finding[] = [];
  try {
    let main: Finding;
    try {
      // Once the run is over nothing calls stop(): `stopped` rejects only while the race listens.
      const exchange = await Promise.race([fetchFollowingRedirects(spec, ready, newClient, run, signal, () => ctx.now() - start), stopped]);
      if (exchange.kind === 'redirect-failure') {
        main = { key: probe.id, ok: false, message: exchange.message, evidence: exchange.evidence, values: { latency_seconds: seconds(ctx.now() - start), status: exchange.status } };
      } else {
        const response = exchange.response;
        const failure = checkExpectations(spec, response);
        main = {
          key: probe.id,
          ok: failure === null,
          message: failure ?? `${statusLine(response.status)} in ${formatLatency(response.latencyMs)}`,
          values: { latency_seconds: seconds(response.latencyMs), status: response.status },
        };
        if (failure !== null) main.evidence = responseEvidence(response, response.url);
        if (spec.expect.max_latency !== undefined) findings.push(latencyFinding(probe.id, response.latencyMs, spec.expect.max_latency));
      }
    } catch (err) {
      const elapsedMs = ctx.now() - start;
      const timedOut = signal.aborted || isTimeoutError(err);
      const message = timedOut
        ? timeoutMessage(run.phase, pastDeadline ? budgetMs : elapsedMs, run.target)
        : describeError(err, run.target, run.host);
      main = { key: probe.id, ok: false, message, values: { latency_seconds: seconds(elapsedMs) } };
      if (err instanceof TlsRejectedError && run.certificate) main.evidence = certificateEvidence(run.certificate);
      if (run.partial) {
        const body = Buffer.concat(run.partial.chunks).toString('utf8');
        main.evidence = responseEvidence({ ...run.partial, body, truncated: false }, run.url);
        main.values = { ...main.values, status: run.partial.status };
      }
    }
    const p99 = spec.expect.p99_latency;
    if (p99 !== undefined) findings.push(p99Finding(`${probe.id}:p99`, ctx.memory, p99, start, (main.values?.latency_seconds ?? 0) * 1000));
    main.message = redact(main.message);
    if (main.evidence !== undefined) main.evidence = redact(main.evidence);
    findings.unshift(main);
    if (spec.tls_expiry !== false && run.certificate) {
      findings.push(tlsExpiryFinding(`${probe.id}:tls`, run.certificate, spec.tls_expiry, ctx.now()));
    }
    return findings;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    for (const client of clients) client.destroy(RUN_OVER).catch(ignore);
  }
}

async function fetchFollowingRedirects(
  spec: HttpProbeConfig,
  ready: Prepared,
  newClient: (origin: string) => Client,
  run: RunState,
  signal: AbortSignal,
  elapsed: () => number,
): Promise<Exchange> {
  const firstUrl = ready.url;
  let url = firstUrl;
  let method: Dispatcher.HttpMethod = spec.method;
  let body = spec.body;
  const chain: URL[] = [url];
  for (;;) {
    run.phase = 'connect';
    run.url = url;
    const first = url === firstUrl;
    run.target = first ? ready.target : hostPort(url);
    run.host = url.hostname;
    run.partial = null;
    const origin = url.origin;
    // Configured headers may carry secrets: they go only to the origin they were written for.
    const hopHeaders = first || origin === firstUrl.origin ? ready.originHeaders : ready.otherHeaders;
    const client = newClient(origin);
    const res = await client.request({
      path: first ? ready.path : url.pathname + url.search,
      method,
      headers: hopHeaders,
      body,
      signal,
    });
    run.phase = 'body';
    const partial = { status: res.statusCode, headers: res.headers, chunks: [] as Buffer[] };
    run.partial = partial;
    const location = firstHeader(res.headers.location);
    if (spec.follow_redirects > 0 && REDIRECT_STATUSES.has(res.statusCode) && location !== undefined) {
      // Closing the hop's connection ends its body with that error; nobody else listens for it.
      res.body.on('error', ignore);
      void client.destroy(RUN_OVER).catch(ignore);
      const evidence = responseEvidence({ ...partial, body: '', truncated: false }, url);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { kind: 'redirect-failure', message: `redirect from ${displayUrl(url)} to an invalid location`, evidence, status: res.statusCode };
      }
      const chainText = [...chain, next].map(displayUrl).join(' → ');
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return { kind: 'redirect-failure', message: `redirect to a non-HTTP URL: ${chainText}`, evidence, status: res.statusCode };
      }
      if (chain.some((seen) => seen.href === next.href)) {
        return { kind: 'redirect-failure', message: `redirect loop: ${chainText}`, evidence, status: res.statusCode };
      }
      if (chain.length > spec.follow_redirects) {
        return { kind: 'redirect-failure', message: `too many redirects (more than ${spec.follow_redirects}): ${chainText}`, evidence, status: res.statusCode };
      }
      // What browsers do: 303 always, and 301/302 after a POST, continue as a GET without the body.
      if (res.statusCode === 303 || (method === 'POST' && (res.statusCode === 301 || res.statusCode === 302))) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
      }
      chain.push(next);
      url = next;
      continue;
    }
    const read = await readBounded(res.body, BODY_LIMIT_BYTES, partial.chunks, () => void client.destroy(RUN_OVER).catch(ignore));
    const text = read.bytes.toString('utf8');
    return { kind: 'response', response: { url, status: res.statusCode, headers: res.headers, body: text, truncated: read.truncated, latencyMs: elapsed() } };
  }
}

/**
 * Reads at most `limit` bytes into `chunks`, then stops and closes the connection (`hangUp`), so a
 * 10 MB body costs 64 KiB. The caller keeps `chunks` to show what arrived if the read times out.
 */
function readBounded(body: Readable, limit: number, chunks: Buffer[], hangUp: () => void): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    let size = 0;
    // After a cut, the closed connection ends the stream with an error that settles nothing.
    body.on('error', reject);
    body.on('end', () => resolve({ bytes: Buffer.concat(chunks), truncated: false }));
    // Not destroyed when cut: undici would make two errors for that; closing the connection makes none.
    const onData = (chunk: Buffer): void => {
      const room = limit - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        body.off('data', onData);
        body.pause();
        hangUp();
        resolve({ bytes: Buffer.concat(chunks), truncated: true });
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    body.on('data', onData);
  });
}

/** Wraps undici's connector to follow the run's phase, read the certificate, then enforce verification. */
function trackingConnector(base: buildConnector.connector, run: RunState): buildConnector.connector {
  return (options, callback) => {
    const https = options.protocol === 'https:';
    run.phase = 'connect';
    // undici's connector returns the socket it created, although its type says void.
    const socket = base(options, (err, connected) => {
      if (err || !connected) {
        callback(err ?? new Error('connector returned no socket'), null);
        return;
      }
      if (https) {
        const tlsSocket = connected as TLSSocket;
        // Read before the verdict, so an expired certificate still yields its `:tls` finding ("expired
        // 2 days ago", S3): the expiry subject keeps telling the truth instead of going silent on a
        // stale "expires in 1 day" while the main finding carries the outage at the probe's severity.
        run.certificate = readPeerCertificate(tlsSocket, options.hostname) ?? run.certificate;
        if (!tlsSocket.authorized) {
          tlsSocket.destroy();
          callback(new TlsRejectedError(String(tlsSocket.authorizationError ?? 'UNKNOWN')), null);
          return;
        }
      }
      run.phase = 'headers';
      callback(null, connected);
    }) as unknown as Socket | undefined;
    if (https) socket?.once('connect', () => {
      if (run.phase === 'connect') run.phase = 'tls';
    });
  };
}

/** Headers every hop gets, headers only the configured origin gets, and every value to redact. */
function requestHeaders(probe: HttpProbe, url: URL): { base: Record<string, string>; secret: Record<string, string>; secrets: string[] } {
  const secret: Record<string, string> = { ...probe.headers };
  const names = new Set(Object.keys(secret).map((name) => name.toLowerCase()));
  const secrets = Object.values(secret);
  if ((url.username || url.password) && !names.has('authorization')) {
    const user = decodeURIComponent(url.username);
    const token = Buffer.from(`${user}:${decodeURIComponent(url.password)}`).toString('base64');
    secret.authorization = `Basic ${token}`;
    secrets.push(token);
  }
  if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
  const base: Record<string, string> = names.has('user-agent') ? {} : { 'user-agent': USER_AGENT };
  return { base, secret, secrets };
}

function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
