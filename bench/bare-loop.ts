// The floor vigil is compared with: a bare undici loop that requests the same targets at the same
// rate, each run on a fresh connection (a new Agent, destroyed after it), and checks the JSON body.
import { Agent } from 'undici';
import { CONCURRENCY, targetPath, targetPort } from './measure.js';

export interface BareLoopSpec {
  probes: number;
  intervalMs: number;
  ports: readonly number[];
  onLag: (seconds: number) => void;
}

async function once(origin: string, path: string): Promise<boolean> {
  const agent = new Agent();
  try {
    const res = await agent.request({ origin, path, method: 'GET', reset: true });
    const body = await res.body.text();
    return res.statusCode === 200 && (JSON.parse(body) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  } finally {
    agent.destroy().catch(() => undefined);
  }
}

/** Runs probe j % n at t0 + j·interval/n (spread over the interval like vigil's scheduler); returns stop(). */
export function startBareLoop(spec: BareLoopSpec): () => Promise<void> {
  const { probes: n, intervalMs } = spec;
  const t0 = performance.now();
  let next = 0;
  let inFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const idle: Array<() => void> = [];
  const dueAt = (j: number) => t0 + (j * intervalMs) / n;

  const pump = (): void => {
    timer = null;
    if (stopped) return;
    const now = performance.now();
    while (inFlight < CONCURRENCY && dueAt(next) <= now) {
      const j = next++;
      const i = j % n;
      spec.onLag(Math.max(0, now - dueAt(j)) / 1000);
      inFlight++;
      void once(`http://127.0.0.1:${targetPort(spec.ports, i)}`, targetPath(i)).finally(() => {
        inFlight--;
        if (inFlight === 0) idle.splice(0).forEach((resolve) => resolve());
        if (timer === null) pump();
      });
    }
    // At the cap, a finishing run pumps again; else wake for the next due run.
    if (inFlight < CONCURRENCY && timer === null) timer = setTimeout(pump, Math.max(0, dueAt(next) - performance.now()));
  };
  pump();

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
  };
}
