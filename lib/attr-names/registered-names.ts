/** The app's registered attribute names: given in config, or learned from IM (`im_get_attr_name`) and cached. */
import type { AttrNames } from '../core/ports.ts';

export class FixedAttrNames implements AttrNames {
  readonly #names: ReadonlySet<string>;
  constructor(names: readonly string[]) {
    this.#names = new Set(names);
  }
  current(): Promise<ReadonlySet<string>> {
    return Promise.resolve(this.#names);
  }

  known(): boolean {
    return true;
  }

  /** Names given in config are the operator's to change: nothing to read again. */
  refresh(): Promise<ReadonlySet<string>> {
    return this.current();
  }

  reads(): undefined {
    return undefined;
  }
}

export interface LearnedAttrNamesOptions {
  readonly fetch: () => Promise<readonly string[]>;
  /** Default 300 s: names change rarely (10 slots, set by an admin), and a stale list costs only a 90033 bisect. */
  readonly ttlSeconds?: number;
  readonly now?: () => number;
  /** Told when IM could not be asked; the gateway then goes on without an allow-list. */
  readonly onError?: (error: unknown) => void;
}

const RETRY_AFTER_FAILURE_MS = 30_000;
/** The shortest time between two forced reads: a flood of refused names costs IM one call per 10 s per copy. */
export const REFRESH_MIN_INTERVAL_MS = 10_000;

export class LearnedAttrNames implements AttrNames {
  readonly #options: LearnedAttrNamesOptions;
  readonly #now: () => number;
  #cached: { names: ReadonlySet<string>; at: number } | undefined;
  #inFlight: Promise<ReadonlySet<string> | undefined> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LearnedAttrNamesOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  current(): Promise<ReadonlySet<string> | undefined> {
    if (this.known()) return Promise.resolve(this.#cached?.names);
    this.#inFlight ??= this.#learn().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async refresh(): Promise<ReadonlySet<string> | undefined> {
    const now = this.#now();
    if (this.#inFlight === undefined && now - this.#refreshedAt < REFRESH_MIN_INTERVAL_MS) return this.current();
    this.#refreshedAt = now;
    this.#inFlight ??= this.#learn().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  reads(): { readonly lastMs: number; readonly nextMs: number } {
    return {
      lastMs: this.#cached?.at ?? Number.NEGATIVE_INFINITY,
      nextMs: this.#refreshedAt + REFRESH_MIN_INTERVAL_MS,
    };
  }

  known(): boolean {
    const now = this.#now();
    if (this.#cached !== undefined && now - this.#cached.at < (this.#options.ttlSeconds ?? 300) * 1000) return true;
    // After a failed fetch, wait a while before asking IM again: during an outage every invocation would
    // otherwise spend its retries (and its rate budget) on the names first.
    return now - this.#failedAt < RETRY_AFTER_FAILURE_MS;
  }

  async #learn(): Promise<ReadonlySet<string> | undefined> {
    try {
      const names = new Set(await this.#options.fetch());
      this.#cached = { names, at: this.#now() };
      return names;
    } catch (error) {
      this.#failedAt = this.#now();
      this.#options.onError?.(error);
      // A stale list beats none; with none, IM's own 90033 check and the dispatcher's bisection take over.
      return this.#cached?.names;
    }
  }
}
