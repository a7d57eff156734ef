// The SQLite and the PostgreSQL migrations are kept by hand side by side: both stores, opened fresh, must hold the same tables and columns.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import t from 'tap';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openStore } from '../../src/store/sqlite.js';
import { startPostgres } from '../helpers/pg.js';
import { tmpDir } from '../helpers/tmp.js';

t.setTimeout(180_000); // a PostgreSQL start-up on a busy machine

/** A column as both stores can say it: its type family, whether it may be NULL, its default. */
interface Column {
  type: 'integer' | 'text' | 'any';
  nullable: boolean;
  default: string | null;
}
type Schema = Map<string, Map<string, Column>>;

/** Each store's bookkeeping, not vigil's data: the schema version (PG) and AUTOINCREMENT's counters (SQLite). */
const BOOKKEEPING = new Set(['vigil_schema', 'sqlite_sequence']);

function family(declared: string): Column['type'] {
  const type = declared.toLowerCase();
  if (/^(integer|bigint|smallint|int\d?)$/.test(type)) return 'integer';
  if (type === 'text') return 'text';
  // SQLite's STRICT `ANY` (meta.value) holds what is written; PostgreSQL stores that as text.
  if (type === 'any') return 'any';
  throw new Error(`no type family for ${declared}`);
}

/** A default as text without PostgreSQL's casts: '[]'::text and '[]' are the same default. */
function plainDefault(value: string | null): string | null {
  return value === null ? null : value.replace(/::[a-z ]+$/i, '');
}

function sqliteSchema(path: string): Schema {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const schema: Schema = new Map();
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    for (const table of tables) {
      if (BOOKKEEPING.has(table)) continue;
      const columns = new Map<string, Column>();
      for (const c of db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[]) {
        // A primary key column cannot be NULL in either store, though SQLite's pragma says notnull 0 for one.
        columns.set(c.name, { type: family(c.type), nullable: c.notnull === 0 && c.pk === 0, default: plainDefault(c.dflt_value) });
      }
      schema.set(table, columns);
    }
    return schema;
  } finally {
    db.close();
  }
}

async function postgresSchema(client: pg.Client): Promise<Schema> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: 'YES' | 'NO'; column_default: string | null }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const schema: Schema = new Map();
  for (const r of rows) {
    if (BOOKKEEPING.has(r.table_name)) continue;
    const columns = schema.get(r.table_name) ?? new Map<string, Column>();
    columns.set(r.column_name, { type: family(r.data_type), nullable: r.is_nullable === 'YES', default: plainDefault(r.column_default) });
    schema.set(r.table_name, columns);
  }
  return schema;
}

/** Every difference between the two, one line each, naming the table and column. */
function differences(sqlite: Schema, postgres: Schema): string[] {
  const out: string[] = [];
  for (const table of new Set([...sqlite.keys(), ...postgres.keys()])) {
    const a = sqlite.get(table);
    const b = postgres.get(table);
    if (!a || !b) {
      out.push(`table ${table} only in ${a ? 'SQLite' : 'PostgreSQL'}`);
      continue;
    }
    for (const column of new Set([...a.keys(), ...b.keys()])) {
      const x = a.get(column);
      const y = b.get(column);
      if (!x || !y) {
        out.push(`column ${table}.${column} only in ${x ? 'SQLite' : 'PostgreSQL'}`);
        continue;
      }
      // meta.value is ANY in SQLite and text in PostgreSQL on purpose.
      if (x.type !== y.type && !(x.type === 'any' && y.type === 'text')) out.push(`column ${table}.${column}: ${x.type} in SQLite, ${y.type} in PostgreSQL`);
      if (x.nullable !== y.nullable) out.push(`column ${table}.${column}: ${x.nullable ? 'nullable' : 'NOT NULL'} in SQLite, ${y.nullable ? 'nullable' : 'NOT NULL'} in PostgreSQL`);
      if (x.default !== y.default) out.push(`column ${table}.${column}: default ${x.default} in SQLite, ${y.default} in PostgreSQL`);
    }
  }
  return out.sort();
}

t.test('a fresh SQLite store and a fresh PostgreSQL store have the same tables and columns', async (t) => {
  const path = join(tmpDir(t), 'vigil.db');
  openStore(path).close();
  const sqlite = sqliteSchema(path);

  const server = await startPostgres(t);
  const admin = await server.connect();
  await admin.query('CREATE DATABASE vigil_parity');
  const url = server.superuserUrl.replace(/\/postgres$/, '/vigil_parity');
  openPostgresStore(url).close();
  const postgres = await postgresSchema(await server.connect(url));

  t.ok(sqlite.size >= 9 && sqlite.has('incidents') && postgres.has('incidents'), `both schemas were read (SQLite: ${[...sqlite.keys()].join(', ')})`);
  t.same(differences(sqlite, postgres), [], 'no table or column differs');
});

t.test('the comparison names what differs', async (t) => {
  const column = (type: Column['type'], nullable = true, dflt: string | null = null): Column => ({ type, nullable, default: dflt });
  const sqlite: Schema = new Map([
    ['outbox', new Map([['id', column('integer', false)], ['attempts', column('integer', false, '0')]])],
    ['meta', new Map([['value', column('any')]])],
    ['gone', new Map()],
  ]);
  const postgres: Schema = new Map([
    ['outbox', new Map([['id', column('text', false)], ['attempts', column('integer', true, '1')], ['claimed_by', column('text')]])],
    ['meta', new Map([['value', column('text')]])],
  ]);
  t.same(differences(sqlite, postgres), [
    'column outbox.attempts: NOT NULL in SQLite, nullable in PostgreSQL',
    'column outbox.attempts: default 0 in SQLite, 1 in PostgreSQL',
    'column outbox.claimed_by only in PostgreSQL',
    'column outbox.id: integer in SQLite, text in PostgreSQL',
    'table gone only in SQLite',
  ]);
});
