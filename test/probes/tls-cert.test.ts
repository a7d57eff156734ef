// The TLS expiry finding on its own: thresholds, wording and values, with a fixed clock.
import t from 'tap';
import { formatSpan, tlsExpiryFinding } from '../../src/probes/tls-cert.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-27T12:00:00Z');
const thresholds = { warn: 21 * DAY, critical: 7 * DAY };

t.test('far from expiry: ok', async (t) => {
  const f = tlsExpiryFinding('api:tls', { host: 'api.example.com', validTo: NOW + 90 * DAY }, thresholds, NOW);
  t.equal(f.ok, true);
  t.equal(f.key, 'api:tls');
  t.equal(f.message, 'TLS certificate for api.example.com expires in 90 days (2027-02-25)');
  t.same(f.values, { tls_expiry_seconds: 90 * 86_400 });
});

t.test('within warn: S4; within critical: S3', async (t) => {
  const warn = tlsExpiryFinding('api:tls', { host: 'api.example.com', validTo: NOW + 15 * DAY }, thresholds, NOW);
  t.equal(warn.ok, false);
  t.equal(warn.severity, 'S4');
  t.equal(warn.message, 'TLS certificate for api.example.com expires in 15 days (2026-12-12)');
  const critical = tlsExpiryFinding('api:tls', { host: 'api.example.com', validTo: NOW + 5 * DAY }, thresholds, NOW);
  t.equal(critical.ok, false);
  t.equal(critical.severity, 'S3');
  t.match(critical.message, /expires in 5 days/);
});

t.test('already expired: S3, saying how long ago', async (t) => {
  const f = tlsExpiryFinding('api:tls', { host: 'api.example.com', validTo: NOW - 2 * DAY }, thresholds, NOW);
  t.equal(f.ok, false);
  t.equal(f.severity, 'S3');
  t.equal(f.message, 'TLS certificate for api.example.com expired 2 days ago (2026-11-25)');
  t.equal(f.values?.tls_expiry_seconds, -2 * 86_400);
});

t.test('spans use the unit an operator would say', async (t) => {
  t.equal(formatSpan(DAY), '1 day');
  t.equal(formatSpan(5 * 3_600_000), '5 hours');
  t.equal(formatSpan(90_000), '2 minutes');
  t.equal(formatSpan(1_000), '1 minute');
});
