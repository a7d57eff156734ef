// Reads a server's TLS certificate and turns its expiry date into the `<probe id>:tls` finding.
import type { TLSSocket } from 'node:tls';
import type { Finding } from '../types.js';

export interface PeerCertificate {
  /** The host name (or IP) the probe connected to, as the operator wrote it in the URL. */
  host: string;
  /** notAfter, ms since epoch. */
  validTo: number;
  /** For evidence when verification fails; absent when built by hand (tests). */
  details?: { subject: string; issuer: string; validFrom: number; names: string };
}

export interface TlsExpiryThresholds {
  warn: number;
  critical: number;
}

const DAY_MS = 86_400_000;

/** The leaf certificate the server presented, or null when the socket has none readable. */
export function readPeerCertificate(socket: TLSSocket, host: string): PeerCertificate | null {
  const cert = socket.getPeerCertificate();
  if (!cert || typeof cert.valid_to !== 'string') return null;
  const validTo = Date.parse(cert.valid_to);
  if (!Number.isFinite(validTo)) return null;
  const details = {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    validFrom: Date.parse(cert.valid_from),
    names: cert.subjectaltname ?? '',
  };
  return { host, validTo, details };
}

/** What a rejected certificate says about itself: who it is for, who signed it, when it is valid. */
export function certificateEvidence(cert: PeerCertificate): string {
  const lines = [`certificate presented by ${cert.host}:`];
  if (cert.details) {
    lines.push(`  subject: ${cert.details.subject || '(none)'}`, `  issuer: ${cert.details.issuer || '(none)'}`);
    if (cert.details.names) lines.push(`  names: ${cert.details.names}`);
  }
  const from = cert.details && Number.isFinite(cert.details.validFrom) ? isoDate(cert.details.validFrom) : '?';
  lines.push(`  valid: ${from} to ${isoDate(cert.validTo)}`);
  return lines.join('\n');
}

function distinguishedName(name: object | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** ok when far from expiry, S4 within `warn`, S3 within `critical` or already expired. */
export function tlsExpiryFinding(key: string, cert: PeerCertificate, thresholds: TlsExpiryThresholds, now: number): Finding {
  const remainingMs = cert.validTo - now;
  const date = new Date(cert.validTo).toISOString().slice(0, 10);
  const values = { tls_expiry_seconds: Math.round(remainingMs / 1000) };
  if (remainingMs <= 0) {
    return {
      key,
      ok: false,
      severity: 'S3',
      message: `TLS certificate for ${cert.host} expired ${formatSpan(-remainingMs)} ago (${date})`,
      values,
    };
  }
  const message = `TLS certificate for ${cert.host} expires in ${formatSpan(remainingMs)} (${date})`;
  if (remainingMs <= thresholds.critical) return { key, ok: false, severity: 'S3', message, values };
  if (remainingMs <= thresholds.warn) return { key, ok: false, severity: 'S4', message, values };
  return { key, ok: true, severity: 'S4', message, values };
}

/** "5 days", "1 day", "7 hours", "12 minutes": the unit an operator would say out loud. */
export function formatSpan(ms: number): string {
  if (ms >= DAY_MS) return unit(Math.round(ms / DAY_MS), 'day');
  if (ms >= 3_600_000) return unit(Math.round(ms / 3_600_000), 'hour');
  return unit(Math.max(1, Math.round(ms / 60_000)), 'minute');
}

function unit(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
