/**
 * A FIFO counting semaphore bounding calls in flight. Kept apart from {@link RateLimiter} on purpose:
 * the rate limiter paces starts, this bounds sockets and memory, and neither must cap the other.
 */

/** The default number of calls in flight: 100 calls/s at up to ~600 ms latency. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** Bounds how many operations run at once; waiters are served in arrival order. */
export class ConcurrencyLimiter {
  readonly #max: number;
  #active = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(maxInFlight: number = DEFAULT_MAX_IN_FLIGHT) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`ConcurrencyLimiter: maxInFlight must be a positive integer, got ${maxInFlight}`);
    this.#max = maxInFlight;
  }

  /** Operations currently holding a slot. */
  get active(): number {
    return this.#active;
  }

  /** Runs `task` once a slot is free, releasing the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#active < this.#max) {
      this.#active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    // The slot passes straight to the next waiter, so `#active` stays unchanged.
    if (next) next();
    else this.#active -= 1;
  }
}
