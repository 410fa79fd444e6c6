/**
 * The API's early write spends only idle budget: it is tried only when a start comes within a few ms, and a copy
 * whose try missed (no start came in time) does not try again for a while, so a busy fleet's API copies do not
 * hammer the budget table with leases for calls the lanes will make anyway.
 */
export interface EarlyWriteGateOptions {
  /** How long a copy makes no early write after one missed its start, ms. @default 1000 (at most one try a second) */
  readonly pauseAfterMissMs?: number;
  readonly now?: () => number;
}

export class EarlyWriteGate {
  readonly #pauseMs: number;
  readonly #now: () => number;
  #closedUntil = Number.NEGATIVE_INFINITY;

  constructor(options: EarlyWriteGateOptions = {}) {
    this.#pauseMs = options.pauseAfterMissMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an early write may be tried now. */
  open(): boolean {
    return this.#now() >= this.#closedUntil;
  }

  /** An early write found no start in time: none is tried for the pause. */
  missed(): void {
    this.#closedUntil = this.#now() + this.#pauseMs;
  }
}
