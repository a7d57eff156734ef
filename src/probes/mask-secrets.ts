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
