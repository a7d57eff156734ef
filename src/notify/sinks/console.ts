// The console sink: with no Discord configured, each paging event becomes one structured log line.
import type { Logger } from 'pino';
import { SEVERITIES, type IncidentEventType, type OutboundMessage, type Severity, type Sink } from '../../types.js';
import { logLevel, oneLine } from '../messages.js';
import { CONSOLE_SINK, type ConsoleBody } from '../route.js';

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/**
 * Reads a body back from the store defensively: a row written by another vigil version must still
 * print something rather than wedge its channel.
 */
function readBody(msg: OutboundMessage): ConsoleBody | null {
  const body = msg.body as Partial<ConsoleBody> | null;
  if (!body || typeof body.text !== 'string' || !body.fields || typeof body.fields !== 'object') return null;
  return body as ConsoleBody;
}

export function consoleSink(log: Logger): Sink {
  return {
    name: CONSOLE_SINK,
    async deliver(msg) {
      const body = readBody(msg);
      if (body === null) {
        log.warn({ incident_id: msg.incidentId, event: msg.event, outbox_id: msg.id }, 'outbox message without a console body');
        return { ok: true };
      }
      const severity = isSeverity(body.fields.severity) ? body.fields.severity : 'S4';
      const type: IncidentEventType = body.fields.event ?? msg.event;
      // An incident's first message carries its triage summary once triage finished (already masked).
      const triage = (msg.body as { triage?: unknown }).triage;
      log[logLevel({ type, severity })]({ ...body.fields, ...(typeof triage === 'string' && triage !== '' ? { triage } : {}) }, oneLine(body.text));
      return { ok: true };
    },
  };
}
