// Quoting for the remote POSIX shell, so that no config value (path, service, docker command) can inject a command.
import { quote } from 'shell-quote';

/** Thrown for a value no shell can carry as one argument (a NUL byte). */
export class ShellQuoteError extends Error {
  readonly code = 'VIGIL_ERR_SHELL_QUOTE';
}

/** One word for `sh`, quoted by shell-quote: it always reaches the command as exactly `value`. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new ShellQuoteError('a shell argument cannot contain a NUL byte');
  return quote([value]);
}

/** A command written in the config as words (`docker`, `sudo docker`): each word quoted on its own. */
export function quoteCommandWords(command: string): string {
  const words = command.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) throw new ShellQuoteError('empty command');
  return words.map(shellQuote).join(' ');
}
