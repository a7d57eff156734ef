// Signed action links: only a token this vigil signed, for this incident, before its expiry, is accepted.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { ACTION_TOKEN_TTL_MS, actionTokenFor, signActionToken, verifyActionToken } from '../src/action-token.js';

const SECRET = 'c2b7e0f4a9d35b1e8f6a0c4d2e9b7f1a3c5d7e9f';
const NOW = Date.UTC(2026, 11, 1, 3, 0, 0);

t.test('a token signed here verifies and names its incident and expiry', async (t) => {
  const token = actionTokenFor(SECRET, 42, NOW);
  t.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'base64url(payload).base64url(sha256 mac)');
  t.same(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()), { v: 1, i: 42, e: (NOW + ACTION_TOKEN_TTL_MS) / 1000 });
  t.same(verifyActionToken(SECRET, token, { now: NOW }), { ok: true, incidentId: 42, expiresAt: NOW + ACTION_TOKEN_TTL_MS });
  t.same(verifyActionToken(SECRET, token, { now: NOW, incidentId: 42 }).ok, true);
  t.equal(verifyActionToken(SECRET, actionTokenFor(SECRET, 42, NOW, 7 * ACTION_TOKEN_TTL_MS), { now: NOW }).ok, true);
  t.equal(
    (verifyActionToken(SECRET, actionTokenFor(SECRET, 42, NOW, 7 * ACTION_TOKEN_TTL_MS), { now: NOW }) as { expiresAt: number }).expiresAt,
    NOW + ACTION_TOKEN_TTL_MS,
    'never longer than a day',
  );
});

t.test('expired: refused from its expiry on', async (t) => {
  const token = actionTokenFor(SECRET, 42, NOW, 60_000);
  t.equal(verifyActionToken(SECRET, token, { now: NOW + 59_999 }).ok, true);
  t.match(verifyActionToken(SECRET, token, { now: NOW + 60_000 }), { ok: false, reason: 'expired', claim: { incidentId: 42 } });
});

t.test('forged: another key, an edited payload, an edited signature', async (t) => {
  const token = actionTokenFor(SECRET, 42, NOW);
  t.same(verifyActionToken('another-secret-of-sufficient-length-000', token, { now: NOW }), { ok: false, reason: 'forged' });
  const [payload, signature] = token.split('.') as [string, string];
  // Another incident's payload under this one's signature.
  const edited = Buffer.from(JSON.stringify({ v: 1, i: 43, e: (NOW + ACTION_TOKEN_TTL_MS) / 1000 })).toString('base64url');
  t.same(verifyActionToken(SECRET, `${edited}.${signature}`, { now: NOW }), { ok: false, reason: 'forged' });
  // A later expiry, same incident.
  const later = Buffer.from(JSON.stringify({ v: 1, i: 42, e: (NOW + 10 * ACTION_TOKEN_TTL_MS) / 1000 })).toString('base64url');
  t.same(verifyActionToken(SECRET, `${later}.${signature}`, { now: NOW }), { ok: false, reason: 'forged' });
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  t.same(verifyActionToken(SECRET, `${payload}.${flipped}`, { now: NOW }), { ok: false, reason: 'forged' });
});

t.test('other incident: a valid token used for another incident', async (t) => {
  const token = actionTokenFor(SECRET, 42, NOW);
  t.match(verifyActionToken(SECRET, token, { now: NOW, incidentId: 43 }), { ok: false, reason: 'other_incident', claim: { incidentId: 42 } });
});

t.test('malformed: wrong shape, bad encoding, a short signature, a signed payload that is not a claim', async (t) => {
  const token = actionTokenFor(SECRET, 42, NOW);
  const [payload, signature] = token.split('.') as [string, string];
  for (const bad of ['', '.', 'abc', `${token}.x`, `${payload}.`, `.${signature}`, `${payload}.${signature.slice(0, 20)}`, `${payload}+.${signature}`, `${payload}.${signature}=`, `${payload} .${signature}`]) {
    t.same(verifyActionToken(SECRET, bad, { now: NOW }), { ok: false, reason: 'malformed' }, JSON.stringify(bad));
  }
  // Correctly signed, but not a claim this vigil would write: the signature alone is not enough.
  const signed = (text: string) => `${Buffer.from(text).toString('base64url')}.${createHmac('sha256', SECRET).update(text).digest('base64url')}`;
  for (const text of ['not json', '{"v":2,"i":42,"e":9999999999}', '{"v":1,"i":"42","e":9999999999}', '{"v":1,"i":0,"e":9999999999}', '{"v":1,"i":42}', 'null']) {
    t.same(verifyActionToken(SECRET, signed(text), { now: NOW }), { ok: false, reason: 'malformed' }, text);
  }
  t.equal(verifyActionToken(SECRET, signed('{"v":1,"i":42,"e":9999999999}'), { now: NOW }).ok, true, 'the same helper signs a good one');
  t.equal(signActionToken(SECRET, { incidentId: 7, expiresAt: NOW + 1500 }).split('.').length, 2);
});
