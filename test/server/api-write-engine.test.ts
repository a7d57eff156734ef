// POST ack/resolve/notes through the real engine: an incident resolved before the engine's reopen window is 409, not 404.
import t from 'tap';
import { command, initialState } from '../../src/incidents/engine.js';
import type { EngineConfig } from '../../src/incidents/state.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/sqlite.js';
import { testConfig, withApiToken } from '../helpers/config.js';
import { makeIncident, NOW } from './harness.js';

const TOKEN = 'tok_5b2d4068a1f0c9e83f9a1c7e';
const headers = { authorization: `Bearer ${TOKEN}` };

t.test('commands on an incident the engine no longer holds answer by its stored state', async (t) => {
  const store = openStore(':memory:');
  // Resolved a day ago: kept by the store, forgotten by the engine (reopen window 10 min).
  const old = makeIncident({ id: 7, state: 'resolved', resolvedAt: NOW - 86_400_000, openedAt: NOW - 90_000_000 });
  store.apply({ subjects: [], incidents: [old], timeline: old.timeline.map((entry) => ({ incidentId: 7, entry })), messages: [], events: [] });
  const engineCfg: EngineConfig = { probes: new Map(), environments: {}, reopenWindowMs: 600_000 };
  const state = initialState({ subjects: [], incidents: [], nextIncidentId: 8 });
  const app = buildApp({
    config: withApiToken(testConfig(), TOKEN),
    store,
    metrics: createMetrics('test'),
    log: createLogger({ level: 'silent', destination: { write: () => undefined } }),
    engineState: () => state,
    dispatch: (cmd) => command(state, cmd, NOW, engineCfg),
    health: () => ({ scheduler: true, store: true, ready: true }),
    now: () => NOW,
  });
  t.teardown(async () => {
    await app.close();
    store.close();
  });

  for (const [path, payload] of [['ack', { by: 'alice' }], ['resolve', { by: 'alice' }], ['notes', { by: 'alice', text: 'late' }]] as const) {
    const res = await app.inject({ method: 'POST', url: `/api/incidents/7/${path}`, headers, payload });
    t.equal(res.statusCode, 409, `${path} on a long-resolved incident is a conflict`);
    t.same(res.json(), { error: { code: 'conflict', message: 'incident 7 is already resolved' } });
  }
  const unknown = await app.inject({ method: 'POST', url: '/api/incidents/99/ack', headers, payload: { by: 'alice' } });
  t.equal(unknown.statusCode, 404, 'an id the store does not hold is still 404');
  t.equal(unknown.json().error.code, 'not_found');
  t.equal(store.getIncident(7)?.timeline.length, old.timeline.length, 'nothing was written');
});
