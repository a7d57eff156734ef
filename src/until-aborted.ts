// Stops waiting for work that cannot be cancelled (a module load, a library call that ignores signals) when a run's signal aborts.

/** `work`'s result, or `reason()` thrown as soon as `signal` aborts, whichever comes first; `work` itself goes on. */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) throw reason();
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
