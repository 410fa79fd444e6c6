/**
 * Exponential backoff with full jitter (delay = random(0, min(cap, base * 2^retry))), bounded both in
 * attempts and in total time. Full jitter spreads the retries of many failing callers evenly instead of
 * letting them come back in synchronized waves.
 * See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
 */
import { realSleep } from './clock.ts';
import type { Sleep } from './clock.ts';

/** Options of {@link RetryPolicy}; every field has a default. */
export interface RetryOptions {
  /** Most attempts in total, the first included. Default 6. */
  readonly maxAttempts?: number;
  /** Backoff base in ms. Default 100. */
  readonly baseDelayMs?: number;
  /** Backoff cap in ms. Default 5000. */
  readonly maxDelayMs?: number;
  /** No retry may be scheduled past this many ms after the first attempt started. Default 20000. */
  readonly maxTotalMs?: number;
  /** Uniform random in [0, 1). Default `Math.random` (jitter needs no cryptographic quality). */
  readonly random?: () => number;
  /** Waits; default a real timer. */
  readonly sleep?: Sleep;
}

/** The defaults of {@link RetryOptions}. */
const RETRY_DEFAULTS = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  maxTotalMs: 20_000,
} as const;

/** Decides whether and how long to wait before the next attempt. */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxTotalMs: number;
  readonly sleep: Sleep;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
    this.maxTotalMs = options.maxTotalMs ?? RETRY_DEFAULTS.maxTotalMs;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new RangeError(`RetryPolicy: maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    for (const [name, value] of [
      ['baseDelayMs', this.baseDelayMs],
      ['maxDelayMs', this.maxDelayMs],
      ['maxTotalMs', this.maxTotalMs],
    ] as const) {
      if (!(value >= 0) || !Number.isFinite(value))
        throw new RangeError(`RetryPolicy: ${name} must be a finite number >= 0, got ${value}`);
    }
    this.#random = options.random ?? Math.random;
    this.sleep = options.sleep ?? realSleep;
  }

  /** The upper bound of the jittered delay before retry number `retry` (0 for the first retry). */
  ceilingMs(retry: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
  }

  /** A full-jitter delay before retry number `retry` (0 for the first retry). */
  delayMs(retry: number): number {
    return this.#random() * this.ceilingMs(retry);
  }

  /**
   * The delay before the next attempt, or undefined when the budget is spent.
   * @param attemptsMade attempts already made (≥ 1)
   * @param elapsedMs time since the first attempt started
   */
  nextDelayMs(attemptsMade: number, elapsedMs: number): number | undefined {
    if (attemptsMade >= this.maxAttempts) return undefined;
    const delay = this.delayMs(attemptsMade - 1);
    if (elapsedMs + delay > this.maxTotalMs) return undefined;
    return delay;
  }
}
