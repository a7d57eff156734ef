// `vigil run`: the daemon, with SIGTERM/SIGINT for a clean stop and SIGHUP to reload the config.
import { ConfigError, formatProblem } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { Daemon } from '../daemon.js';
import { createRunLogger, type LogShipping } from '../log.js';
import { redactUrls } from '../notify/delivery.js';
import { VERSION } from '../version.js';
import { EXIT_CONFIG, loadOrReport } from './config.js';

/**
 * A stop finishes within 15 s; past this vigil exits anyway rather than hang a deploy. Under
 * 15 s because bin/vigil.js may wait a moment more for a handle the hung stop left open.
 */
const STOP_DEADLINE_MS = 14_000;
/** The part of that budget the last Better Stack flush may take (the worker also bounds itself). */
const LOG_FLUSH_MS = 3_000;

/** Flushes Better Stack last, so the lines about stopping reach it too. */
async function flushLogs(shipping: LogShipping | null): Promise<void> {
  await shipping?.close(LOG_FLUSH_MS);
}

export async function runCommand(path: string): Promise<number> {
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const bs = config.alerts.betterstack;
  const { log, shipping } = createRunLogger({
    betterstack: bs?.sourceToken ? { sourceToken: bs.sourceToken, endpoint: bs.endpoint, closeTimeoutMs: LOG_FLUSH_MS } : null,
  });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, log, version: VERSION, logShipping: shipping });
  } catch (err) {
    const e = err as Error & { code?: string };
    log.fatal({ err: { code: e.code, message: e.message } }, `vigil could not start: ${e.message}`);
    await flushLogs(shipping);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, `${signal} received: stopping`);
      const deadline = setTimeout(() => {
        log.error(`stop took longer than ${STOP_DEADLINE_MS / 1000} s: exiting anyway`);
        resolve(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      daemon.stop().then(flushLogs.bind(null, shipping)).then(
        () => {
          clearTimeout(deadline);
          process.off('SIGHUP', reload);
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    const reload = () => {
      // A reload would schedule probes again on a daemon that is closing its store.
      if (stopping) return;
      try {
        daemon.reload(loadConfig(path));
      } catch (err) {
        // Thrown from a signal handler, any error would kill the daemon: a reload must never do that.
        if (err instanceof ConfigError) log.error({ problems: err.problems.map(formatProblem) }, 'config reload refused: the running config stays in force');
        else {
          const e = err as Error & { code?: string };
          // Only the code and a URL-redacted message: an error thrown this deep may quote a webhook.
          log.error({ err: { code: e.code, message: redactUrls(String(e?.message ?? e)) } }, 'config reload failed: fix the config and send SIGHUP again');
        }
      }
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', reload);
  });
}
