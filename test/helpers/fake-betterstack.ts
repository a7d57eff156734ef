// Starts fake-betterstack.mjs in a child process and collects what it received (log records, heartbeats).
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
  readonly heartbeats: Array<{ at: number; method: string }> = [];
  refused = 0;
  unauthorized = 0;
  readonly #child: ChildProcess;
  readonly port: number;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on('message', (msg: any) => {
      if (msg.type === 'batch') this.records.push(...msg.records);
      else if (msg.type === 'heartbeat') this.heartbeats.push({ at: msg.at, method: msg.method });
      else if (msg.type === 'refused') this.refused += 1;
      else if (msg.type === 'unauthorized') this.unauthorized += 1;
    });
  }

  static async start(token: string): Promise<FakeBetterStack> {
    // No loader flags: the peer is plain JavaScript and must not inherit tap's.
    const child = fork(SCRIPT, [token], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

  heartbeatUrl(id = 'hb-secret-123'): string {
    return `http://127.0.0.1:${this.port}/heartbeat/${id}`;
  }

  async setMode(mode: 'up' | 'down'): Promise<void> {
    await new Promise<void>((resolve) => {
      const onMessage = (msg: any) => {
        if (msg.type === 'mode') {
          this.#child.off('message', onMessage);
          resolve();
        }
      };
      this.#child.on('message', onMessage);
      this.#child.send({ mode });
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
