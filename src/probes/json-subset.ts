// Decides whether a JSON value contains an expected JSON value (subset match) and, if not, says where it differs.
import { plural } from '../plural.js';

/**
 * Returns null when `actual` contains `expected`, else the first difference in an operator's words,
 * e.g. `$.status is "degraded", expected "ok"`.
 *
 * Objects: every expected key must be present with a matching value; extra keys are fine.
 * Arrays: element-wise by index, each element a subset match; the actual array may be longer
 * (health payloads grow; a check that breaks when a new entry is appended would be a false alarm).
 * Everything else: strict equality.
 */
export function jsonSubsetMismatch(actual: unknown, expected: unknown, path = '$'): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path} is ${describeValue(actual)}, expected a list`;
    if (actual.length < expected.length) {
      return `${path} has ${plural(actual.length, 'element')}, expected at least ${expected.length}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const mismatch = jsonSubsetMismatch(actual[i], expected[i], `${path}[${i}]`);
      if (mismatch) return mismatch;
    }
    return null;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return `${path} is ${describeValue(actual)}, expected an object`;
    for (const [key, value] of Object.entries(expected)) {
      const childPath = path + pathSegment(key);
      if (!Object.prototype.hasOwnProperty.call(actual, key)) return `${childPath} is missing`;
      const mismatch = jsonSubsetMismatch(actual[key], value, childPath);
      if (mismatch) return mismatch;
    }
    return null;
  }
  if (actual === expected) return null;
  return `${path} is ${describeValue(actual)}, expected ${describeValue(expected)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathSegment(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

const MAX_SHOWN = 60;

/** A short rendering of a value: scalars as JSON (truncated), containers by kind. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `a list of ${plural(value.length, 'element')}`;
  if (isObject(value)) return 'an object';
  const text = JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}
