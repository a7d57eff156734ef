// The root pino logger: JSON lines to stdout (or a given stream), secrets redacted by path.
// stdout is written synchronously: log volume is low (events, not probe results) and no line may be
// lost when vigil is killed.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Field paths that may carry a secret if some caller is careless; pino replaces them. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'url_secret',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info',
      base: { name: 'vigil' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
