// Starts fake-betterstack.mjs in a child process and collects what it received (log records, heartbeats).
// The heartbeats it knows are fixed at start; any other id is answered 404, as Better Stack does.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./fake-betterstack.mjs', import.meta.url));

export interface IngestRecord {
  message?: string;
  level?: string;
  dt?: string;
  [key: string]: unknown;
}

export class FakeBetterStack {
  readonly records: IngestRecord[] = [];
  /** Heartbeats Better Stack would count: a known id, an allowed method, answered 200. */
  readonly heartbeats: Array<{ at: number; method: string; id: string }> = [];
  /** Every request to a heartbeat path, counted or not, with the status it got. */
  readonly heartbeatRequests: Array<{ at: number; method: string; id: string | null; failed: boolean; status: number }> = [];
  /** Bodies the ingest refused as malformed (wrong path, method or encoding). */
  readonly bad: string[] = [];
  refused = 0;
  unauthorized = 0;
  /** Ingest requests answered with a scripted status. */
  scripted = 0;
  readonly #child: ChildProcess;
  readonly port: number;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on('message', (msg: any) => {
      if (msg.type === 'batch') this.records.push(...msg.records);
      else if (msg.type === 'heartbeat') {
        this.heartbeatRequests.push({ at: msg.at, method: msg.method, id: msg.id, failed: msg.failed, status: msg.status });
        if (msg.status === 200 && !msg.failed) this.heartbeats.push({ at: msg.at, method: msg.method, id: msg.id });
      } else if (msg.type === 'bad') this.bad.push(msg.error);
      else if (msg.type === 'scripted') this.scripted += 1;
      else if (msg.type === 'refused') this.refused += 1;
      else if (msg.type === 'unauthorized') this.unauthorized += 1;
    });
  }

  /** `heartbeats`: the ids of the heartbeats that exist (others get 404). */
  static async start(token: string, opts: { heartbeats?: string[] } = {}): Promise<FakeBetterStack> {
    // No loader flags: the peer is plain JavaScript and must not inherit tap's.
    const child = fork(SCRIPT, [token, JSON.stringify(opts.heartbeats ?? ['hb-secret-123'])], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`fake Better Stack exited with ${code}`)));
      const onMessage = (msg: any) => {
        if (msg.type === 'listening') {
          child.off('message', onMessage);
          resolve(msg.port);
        }
      };
      child.on('message', onMessage);
    });
    child.removeAllListeners('exit');
    return new FakeBetterStack(child, port);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The URL of a heartbeat as Better Stack shows it (`…/api/v1/heartbeat/<id>`). */
  heartbeatUrl(id = 'hb-secret-123'): string {
    return `http://127.0.0.1:${this.port}/api/v1/heartbeat/${id}`;
  }

  async setMode(mode: 'up' | 'down'): Promise<void> {
    await this.#command({ mode });
  }

  /** The next requests of a kind get these statuses (429 with Retry-After, 413 …), in order. */
  async script(kind: 'heartbeat' | 'ingest', ...statuses: number[]): Promise<void> {
    await this.#command({ script: { kind, statuses } });
  }

  async #command(command: object): Promise<void> {
    await new Promise<void>((resolve) => {
      const onMessage = (msg: any) => {
        if (msg.type === 'mode') {
          this.#child.off('message', onMessage);
          resolve();
        }
      };
      this.#child.on('message', onMessage);
      this.#child.send(command);
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
