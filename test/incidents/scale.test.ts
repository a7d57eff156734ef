// A step over a large fleet costs what it changes: it neither walks nor copies the state's maps, and shares every untouched object.
import t, { type Test } from 'tap';
import { command, initialState, step, tick } from '../../src/incidents/engine.js';
import { dependentsOf } from '../../src/incidents/grouping.js';
import type { EngineState, StepResult } from '../../src/incidents/state.js';
import type { Incident, SubjectState } from '../../src/types.js';
import { config, fail, meta, MINUTE, pass, T0 } from './fixtures.js';

const FLEET = 5_000;
const INCIDENTS = 200;

const ids = Array.from({ length: FLEET }, (_, i) => `p${i}`);
const cfg = config(ids.map((id) => meta(id, { failureThreshold: 3 })));

function subject(key: string, over: Partial<SubjectState> = {}): SubjectState {
  return { key, probe: key, ok: true, failures: 0, successes: 2, severity: null, since: T0 - 60 * MINUTE, incidentId: null, ...over };
}

function incident(id: number, key: string): Incident {
  return {
    id,
    state: 'open',
    severity: 'S1',
    environment: 'production',
    service: 'backend',
    summary: `${key} down`,
    rootProbe: key,
    rootKey: key,
    symptoms: [],
    openedAt: T0 - 10 * MINUTE,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    respondBy: T0 + 20 * MINUTE,
    lastReminderAt: null,
    message: `${key} refused`,
    timeline: [{ at: T0 - 10 * MINUTE, event: 'opened', detail: `${key} failing` }],
    evidence: [],
  };
}

/** 5,000 subjects, the last 200 failing, each root of its own open incident. */
function fleet(): EngineState {
  const failing = FLEET - INCIDENTS;
  return initialState({
    subjects: ids.map((key, i) =>
      i < failing ? subject(key) : subject(key, { ok: false, failures: 3, successes: 0, severity: 'S1', incidentId: i - failing + 1 }),
    ),
    incidents: ids.slice(failing).map((key, i) => incident(i + 1, key)),
    nextIncidentId: INCIDENTS + 1,
  });
}

type Walkable = ReadonlyMap<unknown, unknown>;

/**
 * Counts, during `fn`, every walk of a map of the kinds given (entries, keys, values, forEach,
 * iteration, which copying a Map starts with too), whichever version of the state it belongs to,
 * and every Map#set anywhere (what filling a copy calls). `walked` holds the maps walked.
 */
function counting<T>(maps: Walkable[], fn: () => T): { result: T; walks: number; walked: Walkable[]; mapSets: number } {
  const walked: Walkable[] = [];
  let mapSets = 0;
  const names = ['entries', 'keys', 'values', 'forEach', Symbol.iterator] as const;
  const prototypes = [...new Set(maps.map((m) => Object.getPrototypeOf(m) as Record<PropertyKey, (...args: unknown[]) => unknown>))];
  const originals = prototypes.map((proto) => names.map((name) => Object.getOwnPropertyDescriptor(proto, name)!));
  prototypes.forEach((proto, p) =>
    names.forEach((name, n) => {
      const original = originals[p]![n]!.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, name, {
        ...originals[p]![n]!,
        value(this: Walkable, ...args: unknown[]) {
          walked.push(this);
          return original.apply(this, args);
        },
      });
    }),
  );
  const set = Map.prototype.set;
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    mapSets += 1;
    return set.call(this, key, value);
  };
  try {
    const result = fn();
    return { result, walks: walked.length, walked, mapSets };
  } finally {
    Map.prototype.set = set;
    prototypes.forEach((proto, p) => names.forEach((name, n) => Object.defineProperty(proto, name, originals[p]![n]!)));
  }
}

/** Every entry by reference, and a deep copy of what they read, to tell later that nothing moved. */
function snapshot(state: EngineState) {
  const refs = { subjects: [...state.subjects], incidents: [...state.incidents], nextIncidentId: state.nextIncidentId };
  return { refs, copy: structuredClone(refs) };
}

function unchanged(t: Test, state: EngineState, before: ReturnType<typeof snapshot>): void {
  const now = snapshot(state);
  t.equal(now.refs.subjects.length, FLEET, 'the old state still has every subject');
  t.ok(
    now.refs.subjects.every(([key, s], i) => before.refs.subjects[i]![0] === key && before.refs.subjects[i]![1] === s),
    'the old state holds the very same subject objects, in the same order',
  );
  t.ok(
    now.refs.incidents.every(([id, inc], i) => before.refs.incidents[i]![0] === id && before.refs.incidents[i]![1] === inc),
    'the old state holds the very same incident objects',
  );
  t.same(now.copy, before.copy, 'and they read as they did');
}

/** Every subject and incident but the named ones is the very object the old state held. */
function shared(t: Test, before: EngineState, after: StepResult, changedKeys: string[], changedIds: number[]): void {
  const subjects = [...before.subjects.values()].filter((s) => !changedKeys.includes(s.key));
  t.ok(
    subjects.every((s) => after.state.subjects.get(s.key) === s),
    `the ${subjects.length} untouched subjects are the old state's own objects`,
  );
  const incidents = [...before.incidents.values()].filter((i) => !changedIds.includes(i.id));
  t.ok(
    incidents.every((i) => after.state.incidents.get(i.id) === i),
    `the ${incidents.length} untouched incidents are the old state's own objects`,
  );
}

t.test('one subject failing once among 5,000: no walk, no copy of the maps', async (t) => {
  const state = fleet();
  const before = snapshot(state);
  const { result, walks, mapSets } = counting([state.subjects, state.incidents], () =>
    step(state, { probe: 'p7', findings: [fail('p7')] }, T0, cfg),
  );
  t.match(result.changed.subjects, [{ key: 'p7', ok: false, failures: 1 }]);
  t.equal(result.state.subjects.size, FLEET);
  t.equal(walks, 0, 'the step walked no subject or incident map');
  t.ok(mapSets < 20, `the step filled no copy of a map (${mapSets} Map#set calls)`);
  shared(t, state, result, ['p7'], []);
  unchanged(t, state, before);
});

t.test('a subject reaching its threshold among 5,000 opens its incident without walking the subjects', async (t) => {
  const state = step(fleet(), { probe: 'p7', findings: [fail('p7')] }, T0 - MINUTE, cfg).state;
  const second = step(state, { probe: 'p7', findings: [fail('p7')] }, T0 - MINUTE / 2, cfg).state;
  const before = snapshot(second);
  // Dependencies and their dependents are indexed once per config, not per step: done before counting.
  dependentsOf({ key: 'p7', probe: 'p7' }, cfg.probes);
  const { result, walked, mapSets } = counting([second.subjects], () => step(second, { probe: 'p7', findings: [fail('p7')] }, T0, cfg));
  // Subject maps are the ones keyed by subject key (the incident maps, by number, are looked through at an opening).
  const walks = walked.filter((map) => map.has('p0')).length;
  t.same(
    result.events.map((e) => [e.type, e.incidentId]),
    [['opened', INCIDENTS + 1]],
  );
  t.equal(walks, 0, 'grouping walked no subject map');
  t.ok(mapSets < 20, `the step filled no copy of a map (${mapSets} Map#set calls)`);
  shared(t, second, result, ['p7'], []);
  unchanged(t, second, before);
});

t.test('a subject seen for the first time joins 5,000 without a copy of them', async (t) => {
  const big = config([...cfg.probes.values(), meta('new-probe')]);
  const state = fleet();
  const before = snapshot(state);
  const { result, walks, mapSets } = counting([state.subjects, state.incidents], () =>
    step(state, { probe: 'new-probe', findings: [pass('new-probe')] }, T0, big),
  );
  t.equal(result.state.subjects.size, FLEET + 1);
  t.equal([...result.state.subjects.keys()].at(-1), 'new-probe', 'added last, as a Map would');
  t.equal(walks, 0, 'the step walked no subject or incident map');
  t.ok(mapSets < 20, `the step filled no copy of a map (${mapSets} Map#set calls)`);
  shared(t, state, result, ['new-probe'], []);
  unchanged(t, state, before);
});

t.test('an acknowledgement among 200 incidents touches that incident only', async (t) => {
  const state = fleet();
  const before = snapshot(state);
  const { result, walks, mapSets } = counting([state.subjects, state.incidents], () =>
    command(state, { type: 'ack', incidentId: 42, by: 'alice' }, T0, cfg),
  );
  t.ok(result.ok);
  if (!result.ok) return;
  t.match(result.state.incidents.get(42), { state: 'acknowledged', acknowledgedBy: 'alice' });
  t.equal(walks, 0, 'the command walked no subject or incident map');
  t.ok(mapSets < 20, `the command filled no copy of a map (${mapSets} Map#set calls)`);
  shared(t, state, result, [], [42]);
  unchanged(t, state, before);
});

t.test('a clock tick that reminds about one incident shares the rest', async (t) => {
  const state = fleet();
  const before = snapshot(state);
  // Only incident 200 is past its respond-by time.
  const late = initialState({
    subjects: [...state.subjects.values()],
    incidents: [...state.incidents.values()].map((i) => (i.id === 200 ? { ...i, respondBy: T0 - MINUTE } : i)),
    nextIncidentId: state.nextIncidentId,
  });
  const result = tick(late, T0, cfg);
  t.same(
    result.events.map((e) => [e.type, e.incidentId]),
    [['reminder', 200]],
  );
  shared(t, late, result, [], [200]);
  t.equal(result.state.subjects, late.subjects, 'no subject changed: the same subject map');
  unchanged(t, state, before);
});
