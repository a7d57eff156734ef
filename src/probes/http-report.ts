// The http probe's judgement and words: expectations checked, messages an operator reads at 3 a.m., redacted evidence.
import { STATUS_CODES } from 'node:http';
import type { HttpProbeConfig } from '../config/schema.js';
import type { Finding } from '../types.js';
import { jsonSubsetMismatch } from './json-subset.js';
import { secretForms } from './mask-secrets.js';

/** Where a run was when it stopped; names the phase in timeout messages. */
export type Phase = 'connect' | 'tls' | 'headers' | 'body';

/** The most of a response body a run reads; the rest is never received into memory. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const EVIDENCE_BODY_CHARS = 500;
/** Response headers safe and useful to show; anything else (cookies, tokens) stays out of evidence. */
const EVIDENCE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'server', 'www-authenticate'];
const MIN_SECRET_LENGTH = 4;

/** A TLS verification verdict we enforce ourselves after reading the certificate (see http.ts). */
export class TlsRejectedError extends Error {
  readonly code = 'VIGIL_ERR_TLS_REJECTED';
  constructor(readonly reason: string) {
    super(`TLS certificate rejected: ${reason}`);
    this.name = 'TlsRejectedError';
  }
}

/** Milliseconds to seconds, kept to the millisecond. */
export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** Latency with sub-second precision: "850ms", "2s", "2.4s" (incident durations use ../duration.ts). */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Number((ms / 1000).toFixed(1))}s`;
}

export function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `HTTP ${status} ${reason}` : `HTTP ${status}`;
}

export function expectedStatusText(expected: readonly number[] | undefined): string {
  if (!expected || expected.length === 0) return '200–299';
  if (expected.length === 1) return String(expected[0]);
  return `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}`;
}

/** A URL as it may be shown anywhere: never with its userinfo. */
export function displayUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

const PHASE_WORDS: Record<Phase, (target: string) => string> = {
  connect: (target) => `connecting to ${target}`,
  tls: (target) => `in the TLS handshake with ${target}`,
  headers: () => 'waiting for response headers',
  body: () => 'reading the body',
};

export function timeoutMessage(phase: Phase, elapsedMs: number, target: string): string {
  return `timed out after ${formatLatency(elapsedMs)} ${PHASE_WORDS[phase](target)}`;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
export function isTimeoutError(err: unknown): boolean {
  return TIMEOUT_CODES.has(errorCode(err));
}

const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate is not signed by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate is not signed by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate is not signed by a trusted authority',
  CERT_REVOKED: 'certificate has been revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature is invalid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname does not match the certificate',
};

/** Any failure before a usable response, in an operator's words. `target` is host:port of the hop. */
export function describeError(err: unknown, target: string, host: string): string {
  if (err instanceof TlsRejectedError) {
    const reason = TLS_REASONS[err.reason] ?? 'certificate verification failed';
    return `TLS error: ${reason} (${err.reason})`;
  }
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${target}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'ENODATA':
      return `DNS lookup failed for ${host} (${code})`;
    case 'ECONNRESET':
      return `connection reset by ${target}`;
    case 'EHOSTUNREACH':
      return `host unreachable: ${target}`;
    case 'ENETUNREACH':
      return `network unreachable: ${target}`;
    case 'UND_ERR_SOCKET':
      return `connection closed by ${target} before a complete response`;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return `response body from ${target} does not match its content-length`;
    case 'UND_ERR_HEADERS_OVERFLOW':
      return `response headers from ${target} are too large`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `TLS error: handshake with ${target} failed; the server may not speak TLS on this port (${code})`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') return `TLS error: handshake with ${target} failed (${code})`;
  if (code in TLS_REASONS) return `TLS error: ${TLS_REASONS[code]} (${code})`;
  if (code.startsWith('HPE_')) return `invalid HTTP response from ${target} (${code})`;
  return `request to ${target} failed: ${message}${code ? ` (${code})` : ''}`;
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Replaces every known secret (request header values, URL password) in a text with [redacted]. */
export function makeRedactor(secrets: readonly string[]): (text: string) => string {
  // A target may echo a secret back escaped (a JSON error, an HTML page, a query string, base64).
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const needle of needles) out = out.split(needle).join('[redacted]');
    return out;
  };
}

export interface ResponseExcerpt {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Decoded body as read (at most the read bound). */
  body: string;
  truncated: boolean;
}

export interface FinalResponse extends ResponseExcerpt {
  url: URL;
  latencyMs: number;
}

/** null when the response meets every expectation, else the first failure in an operator's words. */
export function checkExpectations(spec: HttpProbeConfig, response: FinalResponse): string | null {
  const expected = spec.expect.status;
  const statusOk = expected ? expected.includes(response.status) : response.status >= 200 && response.status <= 299;
  if (!statusOk) return `${statusLine(response.status)} (expected ${expectedStatusText(expected)})`;
  const readNote = response.truncated ? ` (in its first ${BODY_LIMIT_BYTES / 1024} KiB)` : '';
  const needle = spec.expect.body_contains;
  if (needle !== undefined && !response.body.includes(needle)) return `body does not contain ${JSON.stringify(needle)}${readNote}`;
  if (spec.expect.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      return `JSON body does not match: the body is not valid JSON${response.truncated ? ` (cut at ${BODY_LIMIT_BYTES / 1024} KiB)` : ''}`;
    }
    const mismatch = jsonSubsetMismatch(parsed, spec.expect.json);
    if (mismatch !== null) return `JSON body does not match: ${mismatch}`;
  }
  return null;
}

export function latencyFinding(probeId: string, latencyMs: number, limitMs: number): Finding {
  const answered = `answered in ${formatLatency(latencyMs)} (limit ${formatLatency(limitMs)})`;
  const ok = latencyMs <= limitMs;
  return { key: `${probeId}:latency`, ok, severity: 'S4', message: ok ? answered : `slow: ${answered}`, values: { latency_seconds: seconds(latencyMs) } };
}

/** Status line, a few safe headers and the start of the body, with control characters stripped. */
export function responseEvidence(response: ResponseExcerpt, baseUrl: URL): string {
  const lines = [statusLine(response.status)];
  for (const name of EVIDENCE_HEADERS) {
    const raw = response.headers[name];
    if (raw === undefined) continue;
    let value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (name === 'location') value = safeLocation(value, baseUrl);
    lines.push(`${name}: ${stripControl(value).slice(0, 200)}`);
  }
  const body = stripControl(response.body);
  if (body.trim()) {
    const cut = body.length > EVIDENCE_BODY_CHARS || response.truncated;
    lines.push('', body.slice(0, EVIDENCE_BODY_CHARS) + (cut ? '…' : ''));
  }
  return lines.join('\n');
}

function safeLocation(value: string, baseUrl: URL): string {
  try {
    return displayUrl(new URL(value, baseUrl));
  } catch {
    return value;
  }
}

/** Keeps newlines and tabs; drops other C0/C1 controls and the escape sequences they start. */
export function stripControl(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
