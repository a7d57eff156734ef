import t from 'tap';
import {
  eventLogLine,
  formatDuration,
  logFields,
  logLevel,
  oneLine,
  opsLine,
  pages,
} from '../../src/notify/messages.js';
import type { IncidentEvent } from '../../src/types.js';

const T0 = Date.UTC(2025, 0, 6, 3, 0, 0);
const MIN = 60_000;

function event(over: Partial<IncidentEvent> = {}): IncidentEvent {
  return {
    type: 'opened',
    at: T0,
    incidentId: 42,
    severity: 'S1',
    environment: 'production',
    service: 'db',
    probe: 'backend-db-ready',
    findingKey: 'backend-db-ready',
    summary: 'Backend DB unreachable',
    message: 'connection refused',
    openedAt: T0,
    durationMs: 0,
    respondBy: T0 + 30 * MIN,
    detail: 'connection refused',
    ...over,
  };
}

t.test('formatDuration prints at most two units, compactly', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0ms'],
    [-5_000, '0ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [45_000, '45s'],
    [45_999, '45s'],
    [30 * MIN, '30m'],
    [12 * MIN + 30_000, '12m 30s'],
    [2 * 60 * MIN + 5 * MIN + 59_000, '2h 5m'],
    [2 * 60 * MIN + 30_000, '2h 30s'],
    [3 * 24 * 60 * MIN + 4 * 60 * MIN + 7 * MIN, '3d 4h'],
    [400 * 24 * 60 * MIN, '1y 35d'],
    [Number.NaN, '0ms'],
  ];
  for (const [ms, text] of cases) t.equal(formatDuration(ms), text, `${ms} ms`);
});

t.test('opsLine uses the exact #ops wording of docs/messages.md', async (t) => {
  t.equal(opsLine(event()), '[INCIDENT] S1 - Backend DB unreachable on production. Investigating.');
  t.equal(
    opsLine(event({ type: 'reopened', summary: 'Backend API down' })),
    '[INCIDENT] S1 - Backend API down on production. Reopened.',
  );
  t.equal(
    opsLine(event({ type: 'escalated', severity: 'S2', previousSeverity: 'S3', summary: 'Queue stuck' })),
    '[INCIDENT] S2 - Queue stuck on production. Escalated from S3.',
  );
  t.equal(
    opsLine(event({ type: 'escalated', severity: 'S2' })),
    '[INCIDENT] S2 - Backend DB unreachable on production. Escalated.',
  );
  t.equal(
    opsLine(event({ type: 'reminder', durationMs: 30 * MIN + 400 })),
    '[REMINDER] S1 - Backend DB unreachable on production. Unacknowledged for 30m.',
  );
  t.equal(
    opsLine(event({ type: 'reminder', durationMs: 30 * MIN + 7_300 })),
    '[REMINDER] S1 - Backend DB unreachable on production. Unacknowledged for 30m.',
    'the engine ticks every 10 s, so a reminder fires a few seconds past its period: still "30m"',
  );
  t.equal(
    opsLine(event({ type: 'reminder', durationMs: 60 * MIN + 9_000 })),
    '[REMINDER] S1 - Backend DB unreachable on production. Unacknowledged for 1h.',
  );
  t.equal(
    opsLine(event({ type: 'acknowledged', by: 'alice' })),
    '[ACK] S1 - Backend DB unreachable on production. Acknowledged by alice.',
  );
  t.equal(
    opsLine(event({ type: 'resolved', durationMs: 12 * MIN + 30_000 })),
    '[RESOLVED] S1 - Backend DB unreachable on production. Resolved after 12m 30s.',
  );
  t.equal(
    opsLine(event({ environment: 'staging', severity: 'S3', summary: 'Export failures' })),
    '[INCIDENT] S3 - Export failures on staging. Investigating.',
  );
});

t.test('events that do not page have no #ops line', async (t) => {
  for (const type of ['symptom', 'deescalated', 'note'] as const) {
    t.equal(opsLine(event({ type })), null, type);
    t.notOk(pages({ type }), type);
  }
  for (const type of ['opened', 'reopened', 'escalated', 'reminder', 'acknowledged', 'resolved'] as const) {
    t.ok(pages({ type }), type);
  }
});

t.test('untrusted text cannot break the one-line message', async (t) => {
  t.equal(oneLine('  a\r\nb\t\u0000c\u2028d\u001b[31m  '), 'a b c d [31m');
  t.equal(
    opsLine(event({ summary: 'DB\ndown\n[RESOLVED] fake', type: 'acknowledged', by: 'eve\n\nmallory' })),
    '[ACK] S1 - DB down [RESOLVED] fake on production. Acknowledged by eve mallory.',
  );
  t.equal(
    opsLine(event({ type: 'acknowledged', by: '\n' })),
    '[ACK] S1 - Backend DB unreachable on production. Acknowledged by someone.',
  );
});

t.test('logFields carries exactly the documented log fields (docs/messages.md)', async (t) => {
  t.strictSame(logFields(event({ summary: 'Backend DB\nunreachable' })), {
    incident_id: 42,
    event: 'opened',
    severity: 'S1',
    environment: 'production',
    service: 'db',
    probe: 'backend-db-ready',
    summary: 'Backend DB unreachable',
  });
});

t.test('logLevel: error for S1/S2, warn for S3, info otherwise and for good news', async (t) => {
  t.equal(logLevel({ type: 'opened', severity: 'S1' }), 'error');
  t.equal(logLevel({ type: 'escalated', severity: 'S2' }), 'error');
  t.equal(logLevel({ type: 'reminder', severity: 'S2' }), 'error');
  t.equal(logLevel({ type: 'opened', severity: 'S3' }), 'warn');
  t.equal(logLevel({ type: 'opened', severity: 'S4' }), 'info');
  t.equal(logLevel({ type: 'resolved', severity: 'S1' }), 'info');
  t.equal(logLevel({ type: 'acknowledged', severity: 'S1' }), 'info');
  t.equal(logLevel({ type: 'note', severity: 'S2' }), 'info');
  t.equal(logLevel({ type: 'review', severity: 'S1' }), 'info', 'the review draft follows a resolution: no second error-level alert');
  t.equal(eventLogLine(event({ type: 'review', detail: 'Post-incident review draft: run "vigil review 42"' })).level, 'info');
});

t.test('eventLogLine gives non-paging events a message too', async (t) => {
  const paged = eventLogLine(event());
  t.equal(paged.msg, '[INCIDENT] S1 - Backend DB unreachable on production. Investigating.');
  t.equal(paged.level, 'error');
  const symptom = eventLogLine(event({ type: 'symptom', detail: 'backend-health failing\ntoo' }));
  t.equal(symptom.msg, '[SYMPTOM] S1 - Backend DB unreachable on production. backend-health failing too');
  t.equal(symptom.fields.event, 'symptom');
});
