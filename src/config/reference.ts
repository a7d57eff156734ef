// The configuration reference in Markdown, generated from the JSON Schema and the key descriptions.
import { DESCRIPTIONS } from './descriptions.js';
import { configJsonSchema } from './json-schema.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  required?: string[];
};

export interface ReferenceRow {
  path: string;
  type: string;
  required: boolean;
  default: string;
  description: string | undefined;
}

/** One row per configurable key, in the schema's order; probe types get their own `probes[type=…]` rows. */
export function referenceRows(schema: Schema = configJsonSchema() as Schema): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  walkObject(schema, '', rows);
  return rows;
}

function walkObject(schema: Schema, prefix: string, rows: ReferenceRow[]): void {
  const required = new Set(schema.required ?? []);
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    walk(sub, prefix === '' ? key : `${prefix}.${key}`, required.has(key), rows);
  }
}

function walk(schema: Schema, path: string, required: boolean, rows: ReferenceRow[]): void {
  if (path === 'probes') {
    const variants = schema.items?.oneOf ?? [];
    const shared = Object.keys(variants[0]?.properties ?? {}).filter((k) => k !== 'type' && variants.every((v) => k in (v.properties ?? {})));
    const common: Schema = { properties: Object.fromEntries(shared.map((k) => [k, variants[0]!.properties![k]!])), required: variants[0]?.required ?? [] };
    walkObject(common, 'probes[]', rows);
    for (const v of variants) {
      const type = String(v.properties?.type?.const ?? '?');
      const own: Schema = { properties: Object.fromEntries(Object.entries(v.properties ?? {}).filter(([k]) => k !== 'type' && !shared.includes(k))), required: v.required ?? [] };
      walkObject(own, `probes[type=${type}]`, rows);
    }
    return;
  }
  if (schema.properties && Object.keys(schema.properties).length > 0) {
    walkObject(schema, path, rows);
    return;
  }
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object' && schema.additionalProperties.properties) {
    walkObject(schema.additionalProperties, `${path}.<name>`, rows);
    return;
  }
  if (schema.type === 'array' && schema.items?.properties) {
    walkObject(schema.items, `${path}[]`, rows);
    return;
  }
  rows.push({ path, type: typeOf(schema), required, default: schema.default === undefined ? '' : JSON.stringify(schema.default), description: DESCRIPTIONS[path] });
}

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((e) => String(e)).join(' \\| ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' or ');
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'values'}`;
  if (schema.type === 'object') {
    const values = typeof schema.additionalProperties === 'object' ? typeOf(schema.additionalProperties) : null;
    return values ? `map of ${values}` : 'mapping';
  }
  return schema.type ?? 'any';
}

/** The Markdown table the README embeds between its config-reference markers. */
export function configReference(): string {
  const lines = ['| key | type | default | meaning |', '|---|---|---|---|'];
  for (const r of referenceRows()) {
    const key = `\`${r.path}\`${r.required ? ' (required)' : ''}`;
    const def = r.default === '' || r.default === '{}' || r.default === '[]' ? '' : `\`${r.default}\``;
    lines.push(`| ${key} | ${r.type} | ${def} | ${(r.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  return `${lines.join('\n')}\n`;
}
