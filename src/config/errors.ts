// Config problems: where in the YAML each one is, their one-line wording (zod's issues in operator's words), and the ConfigError carrying all of them.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { describe } from './schema.js';

/** One thing wrong with a config file, at the place an operator has to look. */
export interface ConfigProblem {
  file: string;
  /** 1-based; a problem with no position in the file uses line 1, col 1. */
  line: number;
  col: number;
  /** JS-like key path: `probes[3].expect.status[0]`, `hosts.prod-backend.port`; '' for the file itself. */
  path: string;
  message: string;
}

/** Thrown by the loader with every problem found, never just the first. */
export class ConfigError extends Error {
  readonly code = 'VIGIL_ERR_CONFIG';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = sorted;
  }
}

/** `probes/sartiq.yaml:14:5 probes[3].interval: expected a duration like "30s", got "soon"` */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}

/** By position; problems at the same place keep the order they were found in, and exact repeats collapse. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.map((p, i) => ({ p, i })).sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i).map(({ p }) => p);
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** ` (did you mean "interval"?)` when one candidate is a likely typo of `word`, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const list = [...candidates];
  // "prod" for "production", "latency" for "max_latency": a part of the name is as likely as a typo.
  const w = word.toLowerCase();
  const extended = w.length >= 3 ? list.filter((c) => c.toLowerCase().startsWith(w) || (c.toLowerCase().includes(w) && 2 * w.length >= c.length)) : [];
  if (extended.length === 1) return ` (did you mean "${extended[0]}"?)`;
  // "latency" → max_latency or p99_latency: a short list is still a hint, a long one is noise.
  if (extended.length === 2 || extended.length === 3) return ` (did you mean ${extended.map((c) => `"${c}"`).join(', ').replace(/, ([^,]*)$/, ' or $1')}?)`;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of list) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // A third of the word, at least 1: "intervall" → "interval", but "foo" suggests nothing.
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  null: 'null',
};

/** Allowed keys of the object schema that raised an issue, read from zod's definition. */
function shapeKeys(inst: unknown): string[] {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

type RawIssue = z.core.$ZodRawIssue;

/** What one branch of a union wanted, in words, from the issue it raised at its own root. */
function expectedOf(issue: z.core.$ZodIssue): string | undefined {
  if (issue.path.length > 0) return undefined;
  if (issue.code === 'invalid_type') return TYPE_WORDS[issue.expected] ?? issue.expected;
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v)).join(' or ');
  return undefined;
}

/**
 * The per-parse error map: zod's generic issues in an operator's words. Messages set in schema.ts win
 * over this. `unrecognized_keys` yields one line per key, split into one problem each by the loader.
 */
export function configIssueMessage(iss: RawIssue): string | undefined {
  const got = describe(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[iss.expected] ?? iss.expected}, got ${got}`;
    case 'unrecognized_keys': {
      const allowed = shapeKeys(iss.inst);
      return iss.keys.map((key) => `unknown key ${JSON.stringify(key)}${didYouMean(key, allowed)}`).join('\n');
    }
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${JSON.stringify(iss.values[0])}, got ${got}`
        : `expected one of ${iss.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}, got ${got}`;
    case 'too_small':
    case 'too_big': {
      const bound = String(iss.code === 'too_small' ? iss.minimum : iss.maximum);
      const op = iss.code === 'too_small' ? (iss.inclusive ? '≥' : '>') : iss.inclusive ? '≤' : '<';
      if (iss.origin === 'string') return iss.code === 'too_small' && bound === '1' ? 'expected a non-empty string' : `expected a string of length ${op} ${bound}`;
      if (iss.origin === 'array') return `expected a list of ${op} ${bound} item(s)`;
      return `expected a number ${op} ${bound}, got ${got}`;
    }
    case 'invalid_format':
      if (iss.format === 'url') return `expected a URL, got ${got}`;
      if (iss.format === 'datetime') return `expected an RFC 3339 date-time like "2025-01-31T03:00:00Z", got ${got}`;
      return `expected ${iss.format} format, got ${got}`;
    case 'invalid_union': {
      const wanted = iss.errors.map((branch) => branch.map(expectedOf).find((e) => e !== undefined)).filter((e) => e !== undefined);
      return wanted.length > 0 ? `expected ${[...new Set(wanted)].join(' or ')}, got ${got}` : `unexpected value ${got}`;
    }
    default:
      return undefined;
  }
}

// ── where in the file ─────────────────────────────────────────────────────────────────────────
/**
 * Collects problems for one file, each placed at the YAML node its key path names. The positions come
 * from yaml's Document of the text, built on the first problem: a config without one never needs it.
 */
export class Problems {
  readonly list: ConfigProblem[] = [];
  #parsed: { doc: Document; lines: LineCounter } | null = null;
  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  /** The text as yaml's Document, with the line counter its offsets resolve through. */
  get document(): Document {
    return this.#positions().doc;
  }

  add(at: PathSegment[], message: string): void {
    this.list.push({ file: this.file, ...this.position(at), path: formatPath(at), message });
  }

  addAt(offset: number, message: string): void {
    this.list.push({ file: this.file, ...this.linePos(offset), path: '', message });
  }

  position(at: PathSegment[]): { line: number; col: number } {
    return this.linePos(locate(this.document, at));
  }

  error(): ConfigError {
    return new ConfigError(this.list);
  }

  private linePos(offset: number): { line: number; col: number } {
    const { line, col } = this.#positions().lines.linePos(offset);
    return line < 1 ? { line: 1, col: 1 } : { line, col };
  }

  #positions(): { doc: Document; lines: LineCounter } {
    if (this.#parsed === null) {
      const lines = new LineCounter();
      this.#parsed = { doc: parseDocument(this.text, { lineCounter: lines, merge: true, prettyErrors: false }), lines };
    }
    return this.#parsed;
  }
}

/**
 * Offset of the YAML node a path names: the key for a mapping entry, the item for a list entry. A path
 * that runs out (a missing key) stops at the deepest node that exists: its parent.
 */
function locate(doc: Document, at: PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (const seg of at) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair || !isScalar(pair.key)) return offset;
      offset = pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number] } | undefined;
      if (!item?.range) return offset;
      offset = item.range[0];
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

// ── schema issues ─────────────────────────────────────────────────────────────────────────────
/** One zod issue as problems: an unknown key each on its own line, a missing key at its parent, a union's meant branch. */
export function addSchemaIssue(problems: Problems, issue: z.core.$ZodIssue, prefix: PathSegment[], raw: unknown): void {
  const at = [...prefix, ...issue.path.map((seg) => (typeof seg === 'number' ? seg : String(seg)))];
  const key = at[at.length - 1];
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && typeof key === 'string' && valueAt(raw, at) === undefined && isRecord(valueAt(raw, at.slice(0, -1)))) {
    const choices = issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options) ? `: one of ${issue.options.join(', ')}` : '';
    problems.add(at.slice(0, -1), `missing required key ${JSON.stringify(key)}${choices}`);
    return;
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const lines = issue.message.split('\n');
      issue.keys.forEach((key, i) => problems.add([...at, key], lines.length === issue.keys.length ? (lines[i] ?? '') : `unknown key ${JSON.stringify(key)}`));
      return;
    }
    case 'invalid_key':
      problems.add(at, issue.issues[0]?.message ?? issue.message);
      return;
    case 'invalid_union': {
      // The branch that got past its own type check is the one the operator meant (escalate: a rule, not a list).
      const meant = issue.errors.find((branch) => branch.some((i) => i.path.length > 0 || (i.code !== 'invalid_type' && i.code !== 'invalid_value')));
      if (meant) for (const inner of meant) addSchemaIssue(problems, inner, at, raw);
      else problems.add(at, issue.message);
      return;
    }
    default:
      problems.add(at, issue.message);
  }
}

function valueAt(root: unknown, at: PathSegment[]): unknown {
  let value = root;
  for (const seg of at) {
    if (Array.isArray(value) && typeof seg === 'number') value = value[seg];
    else if (isRecord(value) && Object.hasOwn(value, seg)) value = value[seg];
    else return undefined;
  }
  return value;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
