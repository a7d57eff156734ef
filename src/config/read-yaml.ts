// Reads a config file's YAML into plain values, or places what is wrong with it at its line.
import { CORE_SCHEMA, load as loadYaml, mergeTag } from 'js-yaml';
import type { Problems } from './errors.js';

/** YAML 1.2's core schema with merge keys (`<<: *defaults`), as yaml's Document reads it with `merge: true`. */
const FAST_YAML = { schema: CORE_SCHEMA.withTags(mergeTag), maxAliases: 0 } as const;

export const REFUSED: unique symbol = Symbol('refused');

/**
 * js-yaml's value of a plain document, or REFUSED for what only yaml's Document reads right: any
 * alias, a `%YAML 1.1` directive, a tag outside the core schema, a broken or empty document.
 */
export function fastYaml(text: string): unknown {
  if (/^%YAML/m.test(text)) return REFUSED;
  try {
    return loadYaml(text, FAST_YAML);
  } catch {
    return REFUSED;
  }
}

/**
 * The config's value. js-yaml reads a plain document in a fifth of yaml's time, and the process grows
 * a third to a fifth as much for it (through yaml's Document a 20,000-probe file is gigabytes of
 * short-lived objects, and V8 keeps the pages it grew for them). What it refuses goes to yaml's
 * Document, which places a syntax error at its line, refuses alias bombs ("billion laughs") and
 * honours the directive.
 */
export function readYaml(text: string, problems: Problems): unknown {
  const fast = fastYaml(text);
  if (fast !== REFUSED) return fast;
  const doc = problems.document;
  if (doc.errors.length > 0) {
    // The tree of a broken document is a guess; checking it would report phantoms.
    for (const e of doc.errors) problems.addAt(e.pos[0], `YAML syntax error: ${e.message.replace(/\s+/g, ' ').trim()}`);
    throw problems.error();
  }
  try {
    return doc.toJS();
  } catch (err) {
    problems.addAt(0, `YAML error: ${err instanceof Error ? err.message : String(err)}`);
    throw problems.error();
  }
}
