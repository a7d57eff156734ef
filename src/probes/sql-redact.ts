// Replaces every literal in SQL text (strings, numbers, dollar quotes, comments) with a placeholder, failing closed.
//
// Why not libpg-query's `normalize`: it parses first and refuses text with a syntax error, and the text
// we redact is pg_stat_activity.query, which the server cuts at 1024 bytes, often mid-literal. Only a
// tokenizer of the few quoting rules can handle that, and it must assume the worst: whatever follows
// an unterminated quote, dollar quote or comment is treated as part of it and redacted.

export const PLACEHOLDER = '?';
/** What stands in for everything after an unterminated literal. */
export const REDACTED_TAIL = '?…';

export interface RedactOptions {
  /** Cut the result to this many characters (default 300). */
  maxLength?: number;
  /** The server's standard_conforming_strings (default on since PostgreSQL 9.1): off makes backslash escape in '…'. */
  standardConformingStrings?: boolean;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
// A number as PostgreSQL's scanner reads it: decimal with optional fraction/exponent and `_`
// separators (16+), or 0x / 0o / 0b integers. A trailing identifier char is swallowed too (`123abc`
// is junk to the server, and a cut number must never leave a digit behind).
const NUMBER = /^(?:0[xX][0-9A-Fa-f_]*|0[oO][0-7_]*|0[bB][01_]*|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]*)?)[A-Za-z0-9_]*/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** `text` with every literal replaced by `?`, whitespace collapsed, cut to `maxLength` characters. */
export function redactSql(text: string, options: RedactOptions = {}): string {
  const maxLength = options.maxLength ?? 300;
  const backslashEscapes = options.standardConformingStrings === false;
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  const emitLiteral = () => {
    // A sign glued to a number after an operator, an opening or nothing is part of the value
    // (`= -5`, `(-5`); after a name or a value it is a subtraction and stays (`a -5`).
    if (out[out.length - 1] === '-') {
      const before = out.slice(0, -1).reverse().find((t) => t !== ' ');
      if (before === undefined || /^[(,=<>+*/%^|&~!\[]$/.test(before)) out.pop();
    }
    out.push(PLACEHOLDER);
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(text[i]!)) i++;
      if (out.length > 0) out.push(' ');
      continue;
    }
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      // A comment may hold values (ORMs put request data there); an unterminated one is the tail.
      out.push('/*…*/');
      if (end < 0) break;
      i = end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = blockCommentEnd(text, i);
      if (end < 0) return finish([...out, '/*', REDACTED_TAIL], maxLength);
      out.push('/*…*/');
      i = end;
      continue;
    }
    if (c === "'") {
      const end = quotedEnd(text, i, "'", backslashEscapes);
      if (end < 0) return finish([...out, REDACTED_TAIL], maxLength);
      emitLiteral();
      i = end;
      continue;
    }
    if (c === '"') {
      // A quoted identifier is a name, not a value: kept as written.
      const end = quotedEnd(text, i, '"', false);
      if (end < 0) return finish([...out, REDACTED_TAIL], maxLength);
      out.push(text.slice(i, end));
      i = end;
      continue;
    }
    if (c === '$') {
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 64))?.[0];
      if (tag !== undefined && !isIdentPart(text[i - 1])) {
        const close = text.indexOf(tag, i + tag.length);
        if (close < 0) return finish([...out, REDACTED_TAIL], maxLength);
        emitLiteral();
        i = close + tag.length;
        continue;
      }
      if (/^\$[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(text.slice(i))) {
        // The text ends inside what may be a dollar-quote's opening tag.
        return finish([...out, REDACTED_TAIL], maxLength);
      }
      if (next !== undefined && DIGIT.test(next)) {
        // $1: a bind parameter, whose value never was in the text.
        let j = i + 1;
        while (j < n && DIGIT.test(text[j]!)) j++;
        out.push(text.slice(i, j));
        i = j;
        continue;
      }
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const upper = word.toUpperCase();
      // E'…' (backslash escapes), B'…' / X'…' (bit strings), N'…' (national), U&'…' (unicode).
      if (text[j] === "'" && (upper === 'E' || upper === 'B' || upper === 'X' || upper === 'N')) {
        const end = quotedEnd(text, j, "'", upper === 'E' || backslashEscapes);
        if (end < 0) return finish([...out, REDACTED_TAIL], maxLength);
        emitLiteral();
        i = end;
        continue;
      }
      if (upper === 'U' && text[j] === '&' && (text[j + 1] === "'" || text[j + 1] === '"')) {
        const quote = text[j + 1]!;
        const end = quotedEnd(text, j + 1, quote, false);
        if (end < 0) return finish([...out, REDACTED_TAIL], maxLength);
        if (quote === "'") emitLiteral();
        else out.push(text.slice(i, end));
        i = end;
        continue;
      }
      out.push(word);
      i = j;
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      const match = NUMBER.exec(text.slice(i, i + 256))![0];
      emitLiteral();
      i += match.length;
      continue;
    }
    out.push(c);
    i++;
  }
  return finish(out, maxLength);
}

function isIdentPart(ch: string | undefined): boolean {
  return ch !== undefined && IDENT_PART.test(ch);
}

/** Index just past the closing quote, or -1 when the text ends inside the literal. */
function quotedEnd(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (backslashEscapes && ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (text[i + 1] === quote) {
        i += 2; // '' or "" is an escaped quote
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

/** PostgreSQL's block comments nest. Index just past the outermost close, or -1. */
function blockCommentEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length - 1) {
    const pair = text.slice(i, i + 2);
    if (pair === '/*') {
      depth++;
      i += 2;
    } else if (pair === '*/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

function finish(parts: string[], maxLength: number): string {
  const text = parts.join('').trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
