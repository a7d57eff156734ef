// What a person watching `vigil demo` reads: one plain line per incident message (the exact #ops wording) and per fault, the JSON log kept in a file.
import { styleText } from 'node:util';
import { pino, type DestinationStream } from 'pino';
import { PAGING_EVENTS } from '../notify/messages.js';
import type { IncidentEventType } from '../types.js';
import { formatOffset, type Fault } from './timeline.js';

type Style = Parameters<typeof styleText>[0];

export interface Printer {
  /** pino's destination: every line goes to the log file, the ones a person needs also to the screen. */
  destination: DestinationStream;
  fault(fault: Fault, on: boolean): void;
  /** A plain line of the demo's own (banner, stopping). */
  say(text: string): void;
  /** Sets t = 0 for the `t+m:ss` stamps. */
  start(at?: number): void;
  /** Prints what is held back and closes the log file. */
  close(): void;
}

export interface PrinterOptions {
  /** Where the JSON log lines go. */
  logFile: string;
  write: (text: string) => void;
  color: boolean;
  now?: () => number;
}

interface LogLine {
  level?: string;
  msg?: string;
  event?: IncidentEventType;
  incident_id?: number;
  err?: { message?: string };
}

const LEVELS = new Set(['error', 'fatal']);
/** How long a symptom line waits for its incident's page before it is printed anyway. */
const HOLD_MS = 3_000;

export function createPrinter(opts: PrinterOptions): Printer {
  const now = opts.now ?? Date.now;
  const file = pino.destination({ dest: opts.logFile, sync: true, mkdir: true });
  let startedAt: number | null = null;
  let closed = false;
  const paint = (style: Style, text: string) => (opts.color ? styleText(style, text) : text);
  const stamp = () => {
    const at = now();
    const clock = new Date(at).toTimeString().slice(0, 8);
    return paint('dim', startedAt === null ? clock : `${clock} t+${formatOffset(at - startedAt)}`);
  };
  const line = (text: string) => opts.write(`${stamp()}  ${text}\n`);
  const announced = new Set<number>();
  const pending = new Map<number, { lines: string[]; timer: NodeJS.Timeout }>();
  const flush = (id: number) => {
    const held = pending.get(id);
    if (!held) return;
    pending.delete(id);
    clearTimeout(held.timer);
    for (const msg of held.lines) line(paint('dim', `  not paged: ${msg}`));
  };

  const show = (raw: string) => {
    let entry: LogLine;
    try {
      entry = JSON.parse(raw) as LogLine;
    } catch {
      return;
    }
    const msg = entry.msg ?? '';
    const id = entry.incident_id;
    if (entry.event !== undefined && id !== undefined) {
      // The console sink logs each paging event with its #ops line as the message: printed as is.
      if (PAGING_EVENTS.has(entry.event)) {
        const style: Style = entry.event === 'resolved' ? 'green' : entry.event === 'acknowledged' || entry.event === 'review' ? 'cyan' : 'red';
        line(paint(['bold', style], msg));
        announced.add(id);
        flush(id);
      } else if (announced.has(id)) {
        line(paint('dim', `  not paged: ${msg}`));
      } else {
        // The daemon logs a symptom at once, its incident's page comes through the outbox a moment
        // later: held back so that the page reads first.
        const held = pending.get(id) ?? { lines: [], timer: setTimeout(() => flush(id), HOLD_MS).unref() };
        held.lines.push(msg);
        pending.set(id, held);
      }
      return;
    }
    if (msg.startsWith('vigil watching') || msg === 'vigil stopped') return line(msg);
    if (LEVELS.has(entry.level ?? '')) line(paint('red', `vigil ${entry.level}: ${msg}${entry.err?.message ? ` (${entry.err.message})` : ''}`));
  };

  return {
    destination: {
      write(raw: string) {
        if (closed) return;
        file.write(raw);
        for (const one of raw.split('\n')) if (one.trim() !== '') show(one);
      },
    },
    fault(fault, on) {
      line(paint('yellow', on ? `▶ fault: ${fault.what}` : `◀ recovered: ${fault.recovered}`));
    },
    say(text) {
      opts.write(`${text}\n`);
    },
    start(at = now()) {
      startedAt = at;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const id of [...pending.keys()]) flush(id);
      file.flushSync();
      file.end();
    },
  };
}
