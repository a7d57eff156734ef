// Runs one command on an open SSH connection: bounded output, a timeout that closes the channel, exit code or signal.
import type { Client, ClientChannel } from 'ssh2';

/** stdout kept by default: enough for any `docker compose ps`, small enough that a runaway command costs little. */
export const MAX_STDOUT_BYTES = 1024 * 1024;
/** stderr only ever feeds a message, so it needs far less. */
export const MAX_STDERR_BYTES = 64 * 1024;

export interface ExecOptions {
  /** Whole budget of the call: connecting, waiting for a free channel and running. */
  timeoutMs: number;
  signal: AbortSignal;
  /** stdout bytes kept; past it the channel is closed and `truncated` set. Default 1 MiB. */
  maxBytes?: number;
  /**
   * Receives stdout as it arrives instead of collecting it (then `stdout` is empty and `maxBytes`
   * does not apply): for output that is only counted, like log lines, whose memory the caller bounds.
   */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status, or null when the command died of a signal, was cut off, or never reported one. */
  code: number | null;
  signal: string | null;
  /** The budget ran out (or the caller aborted) before the command finished; the channel was closed. */
  timedOut: boolean;
  /** stdout passed `maxBytes`; the channel was closed and `stdout` holds the first `maxBytes`. */
  truncated: boolean;
  durationMs: number;
}

/** The connection went away while the command ran: the host, not the command, failed. */
export class ConnectionLostError extends Error {
  readonly code = 'VIGIL_ERR_SSH_CONNECTION_LOST';
}

/** The server would not open a channel for the command. */
export class ChannelOpenError extends Error {
  readonly code = 'VIGIL_ERR_SSH_CHANNEL';
}

/**
 * Once a command's budget runs out, how long the host has to answer the close of its channel (or
 * the open still pending). A live sshd answers in a round trip whatever the command is doing, so
 * silence past this means the host, not the command, stopped answering. Well inside the grace the
 * scheduler gives a run past its timeout.
 */
export const HOST_ANSWER_MS = 1_000;

/** The budget ran out and the host did not answer the channel's close either: the host went silent. */
export class HostSilentError extends Error {
  readonly code = 'VIGIL_ERR_SSH_HOST_SILENT';
}

/**
 * Runs `command` on `client` until it closes, `deadline` passes or `signal` aborts. Rejects only with
 * ConnectionLostError, ChannelOpenError or HostSilentError; every other outcome is an ExecResult.
 */
export function runOnChannel(client: Client, command: string, deadline: number, signal: AbortSignal, opts: Pick<ExecOptions, 'maxBytes' | 'onStdout'>): Promise<ExecResult> {
  const started = Date.now();
  const maxBytes = opts.maxBytes ?? MAX_STDOUT_BYTES;
  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let code: number | null = null;
    let exitSignal: string | null = null;
    let timedOut = false;
    let truncated = false;
    let settled = false;
    let channel: ClientChannel | null = null;
    let timer: NodeJS.Timeout | undefined;
    let answerTimer: NodeJS.Timeout | undefined;
    // Asked for a channel with budget left: only then does a silent host tell us something.
    const budgeted = deadline > Date.now();

    const cleanup = () => {
      clearTimeout(timer);
      clearTimeout(answerTimer);
      signal.removeEventListener('abort', onAbort);
      client.removeListener('close', onClientClose);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal: exitSignal,
        timedOut,
        truncated,
        durationMs: Date.now() - started,
      });
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    const closeChannel = () => {
      try {
        channel?.close();
      } catch {
        // Already closed by the other side.
      }
    };
    // The channel is closed rather than signalled: OpenSSH ignores "signal" requests, and closing it
    // is what makes sshd hang up on the command. A timed-out command waits for the host to confirm
    // the close (the channel's 'close' event): a hung command on a live host is the command's failure,
    // no answer at all is the host's.
    const stop = (why: 'timeout' | 'truncated') => {
      if (settled || timedOut) return;
      if (why === 'truncated') {
        truncated = true;
        closeChannel();
        return finish();
      }
      timedOut = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (!budgeted) return finish();
      closeChannel();
      answerTimer = setTimeout(
        () => fail(new HostSilentError(`no answer from the host within ${HOST_ANSWER_MS} ms of closing the command's channel`)),
        HOST_ANSWER_MS,
      );
    };
    const onAbort = () => stop('timeout');
    const onClientClose = () => {
      // A command that reported its exit status has finished, whatever happens to the connection after.
      if (code !== null || exitSignal !== null) return finish();
      fail(new ConnectionLostError('the SSH connection closed while the command was running'));
    };

    timer = setTimeout(() => stop('timeout'), Math.max(0, deadline - Date.now()));
    if (signal.aborted) return stop('timeout');
    signal.addEventListener('abort', onAbort, { once: true });
    client.once('close', onClientClose);

    try {
      client.exec(command, (openErr, ch) => {
        // Refused after the budget ran out: the host answered, so the command merely timed out.
        if (openErr) return timedOut ? finish() : fail(new ChannelOpenError(openErr.message));
        channel = ch;
        if (settled) {
          ch.close();
          return;
        }
        if (timedOut) {
          // The budget ran out while the channel was opening: the host answers now; close it and wait for that too.
          ch.on('close', finish);
          ch.on('error', () => undefined);
          closeChannel();
          return;
        }
        ch.on('error', () => undefined);
        ch.stderr.on('error', () => undefined);
        ch.on('data', (chunk: Buffer) => {
          if (settled || timedOut) return;
          if (opts.onStdout) return opts.onStdout(chunk);
          const room = maxBytes - outBytes;
          if (chunk.length > room) {
            out.push(chunk.subarray(0, room));
            outBytes = maxBytes;
            return stop('truncated');
          }
          out.push(chunk);
          outBytes += chunk.length;
        });
        ch.stderr.on('data', (chunk: Buffer) => {
          const room = MAX_STDERR_BYTES - errBytes;
          if (room <= 0) return;
          err.push(chunk.subarray(0, room));
          errBytes += Math.min(room, chunk.length);
        });
        ch.on('exit', (exitCode: number | null, signalName?: string) => {
          code = typeof exitCode === 'number' ? exitCode : null;
          exitSignal = signalName ?? null;
        });
        // `exit` may never come (the server may just close); `close` always does.
        ch.on('close', finish);
      });
    } catch (error) {
      // ssh2 throws synchronously when the connection is no longer writable.
      fail(new ConnectionLostError((error as Error).message));
    }
  });
}
