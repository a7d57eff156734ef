// The query-text redactor: every literal becomes `?`, and text cut mid-literal fails closed.
import t from 'tap';
import { redactSql } from '../../src/probes/sql-redact.js';

const cases: Array<[string, string, string]> = [
  ['strings', "SELECT * FROM users WHERE email = 'alice@example.com' AND name = 'O''Brien'", 'SELECT * FROM users WHERE email = ? AND name = ?'],
  ['numbers, decimal, exponent, hex, octal, binary, separators', 'SELECT 42, 3.14, .5, 1e10, 2.5E-3, 0x1F, 0o17, 0b101, 1_000_000', 'SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?'],
  ['negative numbers after an operator; subtraction kept', 'SELECT a - 1, b -2 FROM t WHERE x = -5 AND y IN (-1, -2.5)', 'SELECT a - ?, b -? FROM t WHERE x = ? AND y IN (?, ?)'],
  ['identifiers with digits are names', 'SELECT t1.col2 FROM table3 t1', 'SELECT t1.col2 FROM table3 t1'],
  ['escape strings with backslash quotes', "SELECT E'it\\'s a secret', e'\\x41'", 'SELECT ?, ?'],
  ['bit, hex, national and unicode strings', "SELECT B'0101', X'1F', N'nat', U&'d\\0061t'", 'SELECT ?, ?, ?, ?'],
  ['dollar quotes, tagged and not', "SELECT $$it's secret$$, $fn$ body 'x' $$ $fn$", 'SELECT ?, ?'],
  ['bind parameters are kept', 'UPDATE t SET a = $1 WHERE id = $2', 'UPDATE t SET a = $1 WHERE id = $2'],
  ['quoted identifiers are kept', 'SELECT "Weird ""col""" FROM "My Table"', 'SELECT "Weird ""col""" FROM "My Table"'],
  ['comments are dropped, nested ones too', "SELECT 1 -- user=bob\nFROM t /* a /* nested 'x' */ b */ WHERE c", 'SELECT ? /*…*/ FROM t /*…*/ WHERE c'],
  ['casts and intervals', "SELECT now() - interval '5 minutes', '2024-01-01'::date", 'SELECT now() - interval ?, ?::date'],
  ['whitespace collapses', 'SELECT\n\t  a,\n  b\nFROM   t', 'SELECT a, b FROM t'],
];

for (const [name, input, expected] of cases) {
  t.equal(redactSql(input), expected, name);
}

t.test('fails closed on text cut mid-literal (pg_stat_activity keeps 1024 bytes)', async (t) => {
  t.equal(redactSql("INSERT INTO t VALUES ('secret1', 'secr"), 'INSERT INTO t VALUES (?, ?…');
  t.equal(redactSql('SELECT $body$ secret text, more'), 'SELECT ?…');
  t.equal(redactSql('SELECT 1 /* comment with secret'), 'SELECT ? /*?…');
  t.equal(redactSql("SELECT E'abc\\' still secret"), 'SELECT ?…');
  t.equal(redactSql('SELECT "unterminated ident secret'), 'SELECT ?…');
  t.equal(redactSql('SELECT * FROM t WHERE id = 12'), 'SELECT * FROM t WHERE id = ?', 'a number cut short is still a number');
  const long = `SELECT * FROM t WHERE k IN (${Array.from({ length: 300 }, (_, i) => `'v${i}'`).join(', ')}`;
  const cut = Buffer.from(long).subarray(0, 1024).toString();
  const out = redactSql(cut);
  t.notMatch(out, /v\d/, 'no value of a cut list survives');
});

t.test('standard_conforming_strings off: backslash escapes in plain strings too', async (t) => {
  const input = "SELECT 'it\\'s secret', 'x'";
  t.equal(redactSql(input, { standardConformingStrings: false }), 'SELECT ?, ?');
  t.equal(redactSql(input), 'SELECT ?s secret??…', 'with it on, the same text is read as the server would (x\' opens a hex string)');
});

t.test('cut to maxLength characters', async (t) => {
  const out = redactSql(`SELECT ${'abcdefghij, '.repeat(60)}z FROM t`);
  t.equal(out.length, 300);
  t.ok(out.endsWith('…'));
  t.equal(redactSql('SELECT a, b FROM t', { maxLength: 10 }), 'SELECT a,…');
});

t.test('no literal character survives arbitrary input', async (t) => {
  // Every secret below is a literal; none of its letters may pass through, whatever surrounds it.
  const secrets = ["'zqxj'", '$$zqxj$$', "E'zq\\'xj'", '$t$zqxj$t$'];
  for (const s of secrets) {
    for (const ctx of ['SELECT %', 'WHERE a=%', '(%,%)', '%::text', 'f(%)']) {
      const text = ctx.replaceAll('%', () => s);
      t.notMatch(redactSql(text), /zq|xj/, text);
      for (let cut = 1; cut < text.length; cut++) t.notMatch(redactSql(text.slice(0, cut)), /zq|xj/, `${text} cut at ${cut}`);
    }
  }
});
