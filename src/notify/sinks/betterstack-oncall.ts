// The Better Stack on-call sink: creates, acknowledges, resolves and escalates Better Stack Uptime
// incidents from outbox messages, remembering which incident it created for which vigil incident.
import type { Logger } from 'pino';
import { request } from 'undici';
import type { OncallConfig } from '../../config/types.js';
import type { OncallIncident, Store } from '../../store/store.js';
import type { IncidentEvent, OutboundMessage, Sink } from '../../types.js';
import type { SinkResult } from '../delivery.js';
import { truncate as truncateText } from '../discord-payload.js';
import { oneLine, opsLine } from '../messages.js';
import { ONCALL_SINK, type OncallAction, type OncallBody } from '../route.js';

/** A Better Stack request before it is sent: what the pure builder returns, and what tests read. */
export interface OncallRequest {
  method: 'POST' | 'GET';
  path: string;
  body?: Record<string, unknown>;
}

/** Longest description sent; Better Stack shows it in the incident and the email. */
const DESCRIPTION_MAX = 4_000;
const NAME_MAX = 255;
/** A Retry-After longer than this is not believed: the outbox retries then anyway. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
const ACTIONS: readonly OncallAction[] = ['create', 'acknowledge', 'resolve', 'escalate'];

export function incidentPath(remoteId: string, verb?: 'acknowledge' | 'resolve' | 'escalate'): string {
  return `/api/v3/incidents/${encodeURIComponent(remoteId)}${verb ? `/${verb}` : ''}`;
}

function flagsFor(event: IncidentEvent, cfg: OncallConfig): Record<string, boolean> {
  const f = cfg.severities[event.severity as 'S1' | 'S2'] ?? { call: false, sms: false, push: false, email: false, critical_alert: false };
  return { call: f.call, sms: f.sms, email: f.email, push: f.push, critical_alert: f.critical_alert };
}

function incidentLink(event: IncidentEvent, publicUrl: string | null): string | null {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/status/incidents/${event.incidentId}` : null;
}

/** What a person reads in Better Stack (and the email): what failed, the evidence, where to act. */
export function description(event: IncidentEvent, publicUrl: string | null): string {
  const link = incidentLink(event, publicUrl);
  const tail = [
    link ? `Incident: ${link}` : `Incident: vigil #${event.incidentId}`,
    `Acknowledge in Better Stack (vigil follows), or: vigil ack ${event.incidentId} --by NAME`,
  ].join('\n');
  const head = `What failed: ${oneLine(event.message)}\nProbe: ${event.probe} · service ${event.service} · ${event.environment}`;
  const room = DESCRIPTION_MAX - head.length - tail.length - 4;
  const evidence = event.evidence ? `\n\nEvidence:\n${truncateText(event.evidence, Math.max(0, room - 11))}` : '';
  return `${head}${evidence}\n\n${tail}`;
}

/**
 * The request for one action on one Better Stack incident (`remoteId`; none for a create). Pure:
 * the same message always builds the same request.
 */
export function buildOncallRequest(action: OncallAction, event: IncidentEvent, cfg: OncallConfig, publicUrl: string | null, remoteId?: string): OncallRequest {
  switch (action) {
    case 'create': {
      const body: Record<string, unknown> = {
        requester_email: cfg.requesterEmail,
        name: truncateText(`${event.severity} · ${oneLine(event.summary)} · ${oneLine(event.environment)}`, NAME_MAX),
        summary: truncateText(opsLine(event) ?? `${event.severity} - ${oneLine(event.summary)} on ${oneLine(event.environment)}.`, NAME_MAX),
        description: description(event, publicUrl),
        ...flagsFor(event, cfg),
      };
      if (cfg.teamWaitMs !== null) body.team_wait = Math.round(cfg.teamWaitMs / 1000);
      if (cfg.policyId !== null) body.policy_id = cfg.policyId;
      return { method: 'POST', path: '/api/v3/incidents', body };
    }
    case 'acknowledge':
      return { method: 'POST', path: incidentPath(remoteId!, 'acknowledge'), body: { acknowledged_by: oneLine(event.by ?? '') || 'vigil' } };
    case 'resolve':
      return { method: 'POST', path: incidentPath(remoteId!, 'resolve'), body: { resolved_by: oneLine(event.by ?? '') || 'vigil' } };
    case 'escalate': {
      // Better Stack takes the policy id as a number here (a string when creating).
      const to = cfg.policyId !== null ? { escalation_type: 'Policy', policy_id: Number(cfg.policyId) } : { escalation_type: 'Organization' };
      return { method: 'POST', path: incidentPath(remoteId!, 'escalate'), body: { ...to, ...flagsFor(event, cfg) } };
    }
  }
}

/** Whom an escalation goes to, in the words #ops uses. */
export function escalationTarget(cfg: Pick<OncallConfig, 'policyId'>): string {
  return cfg.policyId !== null ? `escalation policy ${cfg.policyId}` : 'the whole team';
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS) : null;
}

/** Better Stack's error body, shortened: it names fields, never the token. */
function describe(status: number, text: string): string {
  let detail = '';
  try {
    const body = JSON.parse(text) as { errors?: unknown; error?: unknown };
    const errors = body.errors ?? body.error;
    if (errors !== undefined) detail = `: ${typeof errors === 'string' ? errors : JSON.stringify(errors)}`;
  } catch {
    detail = text ? `: ${text}` : '';
  }
  return `Better Stack answered ${status}${detail}`.slice(0, 300);
}

/**
 * Every HTTP answer maps to deliver / retry / give up here, and nowhere else. 409 to an ack or
 * resolve means "already": done. 401/403 (token) and 422 (a field) can only fail again.
 */
export function classify(action: OncallAction, status: number, text: string, headers: Record<string, string | string[] | undefined>, now: number): SinkResult {
  if (status >= 200 && status < 300) return { ok: true };
  if (status === 409 && (action === 'acknowledge' || action === 'resolve')) return { ok: true };
  const error = describe(status, text);
  if (status === 429) return { ok: false, permanent: false, retryAfterMs: retryAfter(header(headers, 'retry-after'), now) ?? 1_000, error, outcome: 'rate_limited' };
  if (status === 408 || status >= 500) return { ok: false, permanent: false, error };
  return { ok: false, permanent: true, error, outcome: 'rejected' };
}

function readBody(msg: OutboundMessage): OncallBody | null {
  const b = msg.body as Partial<OncallBody> | null;
  if (!b || typeof b !== 'object' || !ACTIONS.includes(b.action as OncallAction)) return null;
  const e = b.event as Partial<IncidentEvent> | undefined;
  if (!e || typeof e.incidentId !== 'number' || typeof e.severity !== 'string' || typeof e.summary !== 'string') return null;
  return b as OncallBody;
}

export interface OncallSinkOptions {
  config: OncallConfig;
  publicUrl: string | null;
  store: Pick<Store, 'oncallCreatedBy' | 'oncallIncidentsOf' | 'recordOncallIncident' | 'setOncallState'>;
  log: Logger;
  now?: () => number;
}

/** Sends one request to the Better Stack Uptime API; the token goes in a header, never in a log. */
export async function callBetterStack(cfg: OncallConfig, req: OncallRequest, signal: AbortSignal): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(new URL(req.path, cfg.apiUrl.replace(/\/*$/, '/')), {
    method: req.method,
    headers: { authorization: `Bearer ${cfg.apiToken}`, 'content-type': 'application/json', accept: 'application/json' },
    ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
    signal,
  });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

/** Which of a vigil incident's Better Stack incidents an action still has to reach. */
function targetsOf(action: Exclude<OncallAction, 'create'>, all: OncallIncident[]): OncallIncident[] {
  // An escalation is for an incident nobody answered; an ack for one not yet acknowledged.
  if (action === 'resolve') return all.filter((o) => o.state !== 'resolved');
  return all.filter((o) => o.state === 'open');
}

export function oncallSink(opts: OncallSinkOptions): Sink {
  const now = opts.now ?? Date.now;
  const log = opts.log.child({ sink: ONCALL_SINK });

  const loud = (msg: OutboundMessage, action: OncallAction, status: number, error: string) => {
    const why =
      status === 401 || status === 403
        ? 'Better Stack refused the API token: check alerts.betterstack.oncall.api_token_env (an Uptime API token, not the logs source token)'
        : `Better Stack refused to ${action} an on-call incident`;
    log.error({ outbox_id: msg.id, incident_id: msg.incidentId, action, status, error }, `${why}; nobody was paged through Better Stack for this`);
  };

  async function create(msg: OutboundMessage, event: IncidentEvent, signal: AbortSignal): Promise<SinkResult> {
    // Made already (vigil stopped after Better Stack answered, before the outbox recorded it): never twice.
    if (opts.store.oncallCreatedBy(msg.id)) return { ok: true };
    const req = buildOncallRequest('create', event, opts.config, opts.publicUrl);
    const res = await callBetterStack(opts.config, req, signal);
    const result = classify('create', res.status, res.text, res.headers, now());
    if (!result.ok) {
      if (result.permanent) loud(msg, 'create', res.status, result.error);
      return result;
    }
    let remoteId: unknown;
    try {
      remoteId = (JSON.parse(res.text) as { data?: { id?: unknown } }).data?.id;
    } catch {
      remoteId = undefined;
    }
    if (typeof remoteId !== 'string' && typeof remoteId !== 'number') {
      const error = `Better Stack answered ${res.status} without an incident id`;
      loud(msg, 'create', res.status, error);
      return { ok: false, permanent: true, error, outcome: 'rejected' };
    }
    opts.store.recordOncallIncident({ remoteId: String(remoteId), incidentId: event.incidentId, outboxId: msg.id, at: now() });
    log.info({ incident_id: event.incidentId, remote_id: String(remoteId), severity: event.severity }, `Better Stack on-call incident ${String(remoteId)} created for incident #${event.incidentId}`);
    return { ok: true };
  }

  async function follow(msg: OutboundMessage, action: Exclude<OncallAction, 'create'>, event: IncidentEvent, signal: AbortSignal): Promise<SinkResult> {
    for (const target of targetsOf(action, opts.store.oncallIncidentsOf(event.incidentId))) {
      const res = await callBetterStack(opts.config, buildOncallRequest(action, event, opts.config, opts.publicUrl, target.remoteId), signal);
      const at = now();
      if (res.status === 404) {
        // Deleted in Better Stack: nothing left to act on or to read back.
        log.warn({ incident_id: event.incidentId, remote_id: target.remoteId, action }, `Better Stack incident ${target.remoteId} no longer exists; forgetting it`);
        opts.store.setOncallState(target.remoteId, 'resolved', at);
        continue;
      }
      const result = classify(action, res.status, res.text, res.headers, at);
      if (!result.ok) {
        if (result.permanent) loud(msg, action, res.status, result.error);
        return result;
      }
      if (action === 'acknowledge') opts.store.setOncallState(target.remoteId, 'acknowledged', at);
      if (action === 'resolve') opts.store.setOncallState(target.remoteId, 'resolved', at);
    }
    return { ok: true };
  }

  return {
    name: ONCALL_SINK,
    async deliver(msg, signal) {
      const body = readBody(msg);
      if (!body) return { ok: false, permanent: true, error: `unreadable Better Stack message for ${msg.event}`, outcome: 'rejected' } satisfies SinkResult;
      return body.action === 'create' ? create(msg, body.event, signal) : follow(msg, body.action, body.event, signal);
    },
  };
}
