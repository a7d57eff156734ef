// What the HTTP API sends (docs/http-api.md): incidents with snake_case keys and RFC 3339 UTC times, and errors.
import type { FastifyReply } from 'fastify';
import type { Config } from '../config/types.js';
import { secretForms } from '../probes/mask-secrets.js';
import { outage } from '../incidents/durations.js';
import type { Evidence, Incident, IncidentEventType, IncidentState, Severity, TimelineEntry } from '../types.js';

export interface TimelineJson {
  at: string;
  event: IncidentEventType;
  by?: string;
  detail: string;
}

export interface EvidenceJson {
  at: string;
  source: string;
  text: string;
}

export interface IncidentJson {
  id: number;
  state: IncidentState;
  severity: Severity;
  environment: string;
  service: string;
  summary: string;
  /** Latest failure message of the root finding: what an operator reads first. */
  message: string;
  root_probe: string;
  root_key: string;
  symptoms: string[];
  opened_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  respond_by: string | null;
  /** When the root finding first failed (before the threshold opened the incident). */
  detected_at: string | null;
  /** The maintenance window holding its pages, if any. */
  maintenance: string | null;
  /** The current (or, once resolved, the last) failing period: what "Resolved after" says. */
  duration_seconds: number;
  /** Every failing period added up: the time between a resolution and a reopening is not counted. */
  downtime_seconds: number;
  timeline: TimelineJson[];
  evidence: EvidenceJson[];
}

/** RFC 3339 in UTC with milliseconds, e.g. 2024-05-01T03:12:00.000Z. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

export function rfc3339OrNull(ms: number | null): string | null {
  return ms === null ? null : rfc3339(ms);
}

export function timelineJson(entry: TimelineEntry): TimelineJson {
  // `by` is left out rather than null so machine entries read differently from human ones.
  return entry.by === undefined
    ? { at: rfc3339(entry.at), event: entry.event, detail: entry.detail }
    : { at: rfc3339(entry.at), event: entry.event, by: entry.by, detail: entry.detail };
}

export function evidenceJson(evidence: Evidence): EvidenceJson {
  return { at: rfc3339(evidence.at), source: evidence.source, text: evidence.text };
}

/** The incident as the API shows it; `now` only matters for the durations of one still open. */
export function incidentJson(incident: Incident, now: number): IncidentJson {
  const lasted = outage(incident, now);
  return {
    id: incident.id,
    state: incident.state,
    severity: incident.severity,
    environment: incident.environment,
    service: incident.service,
    summary: incident.summary,
    message: incident.message,
    root_probe: incident.rootProbe,
    root_key: incident.rootKey,
    symptoms: [...incident.symptoms],
    opened_at: rfc3339(incident.openedAt),
    acknowledged_at: rfc3339OrNull(incident.acknowledgedAt),
    acknowledged_by: incident.acknowledgedBy,
    resolved_at: rfc3339OrNull(incident.resolvedAt),
    respond_by: rfc3339OrNull(incident.respondBy),
    detected_at: rfc3339OrNull(incident.detectedAt ?? null),
    maintenance: incident.maintenance ?? null,
    duration_seconds: lasted.currentMs / 1000,
    downtime_seconds: lasted.totalMs / 1000,
    timeline: [...incident.timeline].sort((a, b) => a.at - b.at).map(timelineJson),
    evidence: incident.evidence.map(evidenceJson),
  };
}

export interface ErrorJson {
  error: { code: string; message: string };
}

/** An error a route means to answer with; `code` is stable and part of the API. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorJson(code: string, message: string): ErrorJson {
  return { error: { code, message } };
}

export function sendError(reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(errorJson(code, message));
}

const MIN_SECRET_LENGTH = 8;

/**
 * Every secret value the loaded config holds. Responses are scrubbed of them as a last line of
 * defence: evidence and messages come from probes, and a careless one could echo a URL or header.
 */
export function secretsOf(config: Config): string[] {
  const found: Array<string | null | undefined> = [
    config.server.apiToken,
    config.server.actionSecret,
    config.alerts.discord.errors,
    config.alerts.discord.warnings,
    config.alerts.discord.ops,
    config.alerts.betterstack?.sourceToken,
    config.alerts.betterstack?.heartbeatUrl,
    config.alerts.oncall?.apiToken,
  ];
  for (const webhook of [config.alerts.discord.errors, config.alerts.discord.warnings, config.alerts.discord.ops]) {
    found.push(webhook?.split('?')[0]?.split('/').pop()); // the webhook's token is the secret part of its URL
  }
  for (const host of Object.values(config.hosts)) found.push(host.privateKey, host.passphrase);
  for (const database of Object.values(config.databases)) found.push(database.url, urlPassword(database.url));
  found.push(config.store.postgres?.url, urlPassword(config.store.postgres?.url));
  for (const probe of config.probes) {
    found.push(...Object.values(probe.secrets ?? {}));
    if (probe.spec.type !== 'http') continue;
    found.push(urlPassword(probe.spec.url));
    for (const [name, value] of Object.entries(probe.spec.headers)) {
      if (typeof value !== 'string') found.push(probe.headers[name]);
    }
  }
  const secrets = new Set<string>();
  for (const value of found) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    for (const form of secretForms(value)) secrets.add(form);
  }
  // Longest first, so a URL is replaced whole before its password is looked for.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function urlPassword(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out;
}
