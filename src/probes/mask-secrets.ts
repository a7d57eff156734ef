// Masks secrets that commonly leak into log lines and command output: bearer tokens, URL passwords, key=value secrets.

const MASK = '***';

// `Authorization: Bearer abc`, `Basic abc`, `token abc` in headers printed by apps and proxies.
const AUTH_SCHEME = /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9\-._~+/]+=*/gi;
// scheme://user:password@host — the password part, whatever the scheme (postgres, redis, amqp, https).
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)([^\s@/'"]+)(@)/gi;
// password=…, DB_PASSWORD: …, "client_secret": "…", api_key=…, access_token=… (quoted or bare values).
const KEY_VALUE =
  /((?:[A-Za-z0-9_.-]*)(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|credentials?)(?:[A-Za-z0-9_.-]*)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"'}]+)/gi;

/** The text with every recognised secret replaced by `***`; everything else is left as it was. */
export function maskSecrets(text: string): string {
  return text
    .replace(URL_PASSWORD, `$1${MASK}$3`)
    .replace(AUTH_SCHEME, `$1$2${MASK}`)
    .replace(KEY_VALUE, (_all, key: string, value: string) => {
      const quote = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      return `${key}${quote}${MASK}${quote}`;
    });
}

const HTML_ESCAPES: Record<string, string[]> = {
  '&': ['&amp;', '&#38;', '&#x26;'],
  '<': ['&lt;', '&#60;', '&#x3c;', '&#x3C;'],
  '>': ['&gt;', '&#62;', '&#x3e;', '&#x3E;'],
  '"': ['&quot;', '&#34;', '&#x22;'],
  "'": ['&#39;', '&#x27;', '&apos;'],
};

/** The usual ways an HTML writer escapes the text: each writer picks one entity per character. */
function htmlForms(text: string): string[] {
  const variants = Math.max(...Object.values(HTML_ESCAPES).map((e) => e.length));
  const forms = new Set<string>();
  for (let v = 0; v < variants; v++) {
    forms.add(text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]![Math.min(v, HTML_ESCAPES[c]!.length - 1)]!));
  }
  return [...forms];
}

/** As it reads inside a JSON string (quotes and backslashes escaped, non-ASCII either way). */
function jsonForms(text: string): string[] {
  const json = JSON.stringify(text).slice(1, -1);
  const ascii = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [json, ascii];
}

/** As it reads in a URL or a form body (upper- and lower-case hex, `+` or `%20` for spaces). */
function urlForms(text: string): string[] {
  const encoded = encodeURIComponent(text);
  const strict = encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [encoded, strict, strict.replace(/%20/g, '+'), strict.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())];
}

/**
 * Base64 (and base64url) of the text, also as it reads when the secret sits inside a longer
 * encoded value (`Basic base64(user:secret)`): for each of the three byte offsets, the characters
 * that depend on the secret's bytes alone.
 */
function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const whole = bytes.toString('base64');
  const found = [whole, whole.replace(/=+$/, '')];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters before `start` mix in the bytes before the secret, those from `end` the bytes after it.
    found.push(encoded.slice(Math.ceil((offset * 4) / 3), Math.floor(((offset + bytes.length) * 4) / 3)));
  }
  const forms = new Set<string>();
  for (const b64 of found) {
    forms.add(b64);
    forms.add(b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((f) => f.length >= 8);
}

/**
 * Every form a secret can take in what a target echoes back and in what vigil writes out: raw,
 * JSON-escaped, URL-encoded, HTML-escaped, base64, and the escapings of those (JSON inside HTML),
 * longest first so a longer form is replaced whole before a shorter one inside it.
 */
export function secretForms(secret: string): string[] {
  const bases = new Set<string>([secret, ...urlForms(secret), ...base64Forms(secret)]);
  const forms = new Set<string>();
  for (const base of bases) {
    for (const json of [base, ...jsonForms(base)]) {
      forms.add(json);
      for (const html of htmlForms(json)) forms.add(html);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}
