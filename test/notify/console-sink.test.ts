import { pino } from 'pino';
import t from 'tap';
import { consoleSink } from '../../src/notify/sinks/console.js';
import { NO_DISCORD, route } from '../../src/notify/route.js';
import type { IncidentEvent, OutboundMessage } from '../../src/types.js';
import { T0, incidentEvent } from '../helpers/events.js';
import { matchExactly } from '../helpers/match.js';


function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'trace', base: null, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

const event = (over: Partial<IncidentEvent> = {}): IncidentEvent => incidentEvent({ incidentId: 9, ...over });

function message(e: IncidentEvent, id = 1): OutboundMessage {
  const [r] = route(e, NO_DISCORD);
  if (!r) throw new Error(`event ${e.type} is not routed`);
  return { id, sink: r.sink, channel: r.channel, createdAt: e.at, incidentId: e.incidentId, event: e.type, body: r.body };
}

t.test('one structured line per message: exact #ops wording as msg, documented log fields (docs/messages.md), level by severity', async (t) => {
  const { log, lines } = memoryLogger();
  const sink = consoleSink(log);
  t.equal(sink.name, 'console');
  const signal = new AbortController().signal;

  t.strictSame(await sink.deliver(message(event()), signal), { ok: true });
  t.strictSame(await sink.deliver(message(event({ severity: 'S3', summary: 'Export failures' }), 2), signal), { ok: true });
  t.strictSame(
    await sink.deliver(message(event({ type: 'resolved', durationMs: 750_000 }), 3), signal),
    { ok: true },
  );

  t.equal(lines.length, 3);
  const [opened, warned, resolved] = lines;
  t.match(opened, {
    level: 'error',
    msg: '[INCIDENT] S1 - Backend API down on production. Investigating.',
    incident_id: 9,
    event: 'opened',
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    probe: 'backend-health',
    summary: 'Backend API down',
  });
  t.match(warned, { level: 'warn', msg: '[INCIDENT] S3 - Export failures on production. Investigating.', severity: 'S3' });
  t.match(resolved, {
    level: 'info',
    msg: '[RESOLVED] S1 - Backend API down on production. Resolved after 12m 30s.',
    event: 'resolved',
  });
});

t.test('a body it cannot read is reported and does not wedge the channel', async (t) => {
  const { log, lines } = memoryLogger();
  const result = await consoleSink(log).deliver(
    { id: 5, sink: 'console', channel: 'ops', createdAt: T0, incidentId: 1, event: 'opened', body: { nope: true } },
    new AbortController().signal,
  );
  t.strictSame(result, { ok: true });
  matchExactly(t, lines, [{ level: 'warn', outbox_id: 5 }]);
});
