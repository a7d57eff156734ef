// The JSON subset matcher on its own: what matches, and how a mismatch is worded.
import t from 'tap';
import { jsonSubsetMismatch } from '../../src/probes/json-subset.js';

t.test('an object matches when every expected key is present with an equal value', async (t) => {
  const actual = { status: 'ok', version: '1.2.3', checks: { db: true, redis: true } };
  t.equal(jsonSubsetMismatch(actual, { status: 'ok' }), null);
  t.equal(jsonSubsetMismatch(actual, { checks: { db: true } }), null);
  t.equal(jsonSubsetMismatch(actual, {}), null);
});

t.test('a different scalar names the path and both values', async (t) => {
  t.equal(jsonSubsetMismatch({ status: 'degraded' }, { status: 'ok' }), '$.status is "degraded", expected "ok"');
  t.equal(jsonSubsetMismatch({ checks: { db: false } }, { checks: { db: true } }), '$.checks.db is false, expected true');
  t.equal(jsonSubsetMismatch({ n: 1 }, { n: '1' }), '$.n is 1, expected "1"');
  t.equal(jsonSubsetMismatch({ n: null }, { n: 0 }), '$.n is null, expected 0');
});

t.test('a missing key is reported as missing', async (t) => {
  t.equal(jsonSubsetMismatch({ status: 'ok' }, { checks: { db: true } }), '$.checks is missing');
  t.equal(jsonSubsetMismatch({ checks: {} }, { checks: { db: true } }), '$.checks.db is missing');
});

t.test('keys that are not identifiers are quoted in the path', async (t) => {
  t.equal(jsonSubsetMismatch({ 'db-main': 'down' }, { 'db-main': 'up' }), '$["db-main"] is "down", expected "up"');
});

t.test('arrays match element-wise, each element as a subset; extra actual elements are fine', async (t) => {
  const actual = { services: [{ name: 'db', up: true, ms: 3 }, { name: 'redis', up: true }, { name: 'extra' }] };
  t.equal(jsonSubsetMismatch(actual, { services: [{ name: 'db', up: true }, { name: 'redis' }] }), null);
  t.equal(
    jsonSubsetMismatch(actual, { services: [{ name: 'db' }, { name: 'redis', up: false }] }),
    '$.services[1].up is true, expected false',
  );
  t.equal(jsonSubsetMismatch({ list: [1] }, { list: [1, 2] }), '$.list has 1 element, expected at least 2');
  t.equal(jsonSubsetMismatch([2, 1], [1]), '$[0] is 2, expected 1');
});

t.test('a type mismatch says what was found', async (t) => {
  t.equal(jsonSubsetMismatch({ checks: [1, 2] }, { checks: { db: true } }), '$.checks is a list of 2 elements, expected an object');
  t.equal(jsonSubsetMismatch({ checks: 'none' }, { checks: [] }), '$.checks is "none", expected a list');
  t.equal(jsonSubsetMismatch('ok', { status: 'ok' }), '$ is "ok", expected an object');
  t.equal(jsonSubsetMismatch({ status: { code: 1 } }, { status: 'ok' }), '$.status is an object, expected "ok"');
});

t.test('long values are shortened', async (t) => {
  const message = jsonSubsetMismatch({ text: 'x'.repeat(500) }, { text: 'y' });
  t.ok(message && message.length < 120, 'the message stays short');
  t.match(message, /…/);
});

t.test('scalars at the root compare strictly', async (t) => {
  t.equal(jsonSubsetMismatch(true, true), null);
  t.equal(jsonSubsetMismatch(null, null), null);
  t.equal(jsonSubsetMismatch(1, 2), '$ is 1, expected 2');
});
