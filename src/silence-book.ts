// The silences in force: what the API adds and expires (kept in the store), and what the engine is given.
import { isSilenceActive, type Silence, type SilenceMatchers } from './incidents/silences.js';
import { StoreUnavailableError } from './store/errors.js';
import type { Store } from './store/store.js';

export type SilenceState = 'active' | 'expired' | 'all';

export type ExpireResult = { ok: true; silence: Silence } | { ok: false; code: 'not_found' | 'conflict'; message: string };

export interface SilenceBookOptions {
  store: Pick<Store, 'addSilence' | 'getSilence' | 'listSilences' | 'expireSilence'>;
  now: () => number;
  /** Called after every add or expiry with the silences not yet over (the engine's input). */
  onChange?: (current: readonly Silence[]) => void;
}

export class SilenceBook {
  readonly #store: SilenceBookOptions['store'];
  readonly #now: () => number;
  readonly #onChange: ((current: readonly Silence[]) => void) | undefined;
  #current: readonly Silence[];

  constructor(opts: SilenceBookOptions) {
    this.#store = opts.store;
    this.#now = opts.now;
    this.#onChange = opts.onChange;
    this.#current = this.#load();
  }

  /** Silences not over at the last change; the engine judges each against its own clock. */
  current(): readonly Silence[] {
    return this.#current;
  }

  /**
   * Newest first: in force now, over (ended or expired), or both. While the store cannot be read, the
   * silences in force come from memory (as of the last change or refresh); the others rethrow.
   */
  list(state: SilenceState = 'active'): Silence[] {
    const now = this.#now();
    if (state === 'active') {
      try {
        return this.#store.listSilences({ activeAt: now }).filter((s) => isSilenceActive(s, now));
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        return this.#current.filter((s) => isSilenceActive(s, now));
      }
    }
    const all = this.#store.listSilences();
    return state === 'all' ? all : all.filter((s) => !isSilenceActive(s, now));
  }

  add(input: { matchers: SilenceMatchers; durationMs: number; reason: string; by: string }): Silence {
    const now = this.#now();
    const silence = this.#store.addSilence({ matchers: input.matchers, startsAt: now, endsAt: now + input.durationMs, reason: input.reason, by: input.by });
    this.#changed();
    return silence;
  }

  expire(id: number, by: string): ExpireResult {
    const silence = this.#store.expireSilence(id, by, this.#now());
    if (silence) {
      this.#changed();
      return { ok: true, silence };
    }
    const known = this.#store.getSilence(id);
    return known
      ? { ok: false, code: 'conflict', message: `silence ${id} is already over${known.expiredBy ? ` (expired by ${known.expiredBy})` : ''}` }
      : { ok: false, code: 'not_found', message: `no silence ${id}` };
  }

  /**
   * Reads the silences again: another replica sharing the store may have added or expired one.
   * The engine hears of it (onChange) only when something differs.
   */
  refresh(): void {
    const next = this.#load();
    const key = (list: readonly Silence[]) => JSON.stringify(list.map((x) => [x.id, x.endsAt]));
    if (key(next) === key(this.#current)) return;
    this.#current = next;
    this.#onChange?.(next);
  }

  #load(): readonly Silence[] {
    return Object.freeze(this.#store.listSilences({ activeAt: this.#now() }));
  }

  #changed(): void {
    this.#current = this.#load();
    this.#onChange?.(this.#current);
  }
}
