// Probe runs counted in memory, one aggregate per probe-hour, until a store writes them in one go.
import type { UptimeRow, UptimeSample } from './store.js';

export const HOUR_MS = 3_600_000;

export class UptimeBuffer {
  /** Keyed `probe \0 hour`. */
  readonly #rows = new Map<string, UptimeRow>();

  record(sample: UptimeSample): void {
    const hour = Math.floor(sample.at / HOUR_MS) * HOUR_MS;
    const key = `${sample.probe}\0${hour}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = { probe: sample.probe, environment: sample.environment, service: sample.service, hour, ok: 0, failed: 0 };
      this.#rows.set(key, row);
    }
    if (sample.ok) row.ok++;
    else row.failed++;
  }

  /**
   * Hands the buffered rows to `write`; they are dropped only once it returns, so a failed write
   * keeps the counts for the next try.
   */
  flush(write: (rows: UptimeRow[]) => void): void {
    if (this.#rows.size === 0) return;
    write([...this.#rows.values()]);
    this.#rows.clear();
  }
}
