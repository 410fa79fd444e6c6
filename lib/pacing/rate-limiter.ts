/**
 * A sliding-window call pacer: never more than `ratePerSecond` call starts in any window of `windowMs`.
 *
 * IM allows 100 calls per second per app and per API (reference §2) and answers 60007/60011 past it.
 * The limiter keeps the timestamps of the last N starts in a ring buffer; a call may start when the
 * N-th previous start is at least one window (plus a safety margin) ago. That bounds every sliding
 * window exactly, unlike a token bucket, whose burst can straddle the server's window.
 *
 * The limiter only paces STARTS: it does not hold a slot while a call is in flight, so latency does not
 * reduce throughput. Calls in flight are bounded separately ({@link ConcurrencyLimiter}).
 */
import { monotonicClock, realSleep } from './clock.ts';
import type { Clock, Sleep } from './clock.ts';

/** Options of {@link RateLimiter}; every field has a default. */
export interface RateLimiterOptions {
  /** Most call starts in any window. Default 100 (IM's documented per-API limit). */
  readonly ratePerSecond?: number;
  /** The window length in ms. Default 1000. */
  readonly windowMs?: number;
  /**
   * Extra spacing added to the window, in ms. Default 5. The server measures at request ARRIVAL, so
   * jitter between our start and its arrival (connection setup, event-loop delay) must be absorbed here.
   */
  readonly safetyMarginMs?: number;
  /** Lowest rate a penalty can drive the limiter to. Default 1. */
  readonly minRatePerSecond?: number;
  /** Additive recovery after a penalty, in calls/s gained per elapsed window. Default ceil(rate / 10). */
  readonly recoveryPerWindow?: number;
  /**
   * Penalties closer together than this count once, in ms. Default one window: the calls in flight when
   * the server starts refusing all come back refused together, and that is one signal, not twenty.
   */
  readonly penaltyCooldownMs?: number;
  /**
   * Spread starts evenly, at least `windowMs / rate` apart, instead of letting a whole window's budget
   * go in one burst. Default true. A burst of 64 calls started in the same millisecond reaches the
   * server over tens of milliseconds (connection setup, serialization, the server's own queue), while
   * the next window's burst on warm connections arrives faster: measured at arrival, the server then
   * sees more than the rate in one window although the starts never did. Even spacing removes that.
   */
  readonly smooth?: boolean;
  /** Monotonic time source in ms. Default `performance.now()`. */
  readonly now?: Clock;
  /** Waits; default a real timer. */
  readonly sleep?: Sleep;
}

/** The defaults of {@link RateLimiterOptions}. */
export const RATE_LIMITER_DEFAULTS = {
  ratePerSecond: 100,
  windowMs: 1000,
  safetyMarginMs: 5,
  minRatePerSecond: 1,
  smooth: true,
} as const;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`RateLimiter: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Paces call starts to a sliding-window rate, serving waiters first-in first-out. */
export class RateLimiter {
  readonly #rate: number;
  readonly #windowMs: number;
  readonly #marginMs: number;
  readonly #minRate: number;
  readonly #recovery: number;
  readonly #cooldownMs: number;
  readonly #smooth: boolean;
  readonly #now: Clock;
  readonly #sleep: Sleep;

  /** Start times of the last `#rate` starts, indexed by start number modulo `#rate`. */
  readonly #starts: Float64Array;
  #startCount = 0;

  /** FIFO of waiters; `#head` avoids O(n) shifts. */
  #queue: (() => void)[] = [];
  #head = 0;
  #pumping = false;

  /** Rate right after the last penalty, and when it happened; recovery is computed lazily from them. */
  #penaltyRate: number;
  #penalizedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimiterOptions = {}) {
    this.#rate = positiveInteger('ratePerSecond', options.ratePerSecond ?? RATE_LIMITER_DEFAULTS.ratePerSecond);
    this.#windowMs = positiveInteger('windowMs', options.windowMs ?? RATE_LIMITER_DEFAULTS.windowMs);
    this.#marginMs = options.safetyMarginMs ?? RATE_LIMITER_DEFAULTS.safetyMarginMs;
    if (!(this.#marginMs >= 0)) throw new RangeError(`RateLimiter: safetyMarginMs must be >= 0, got ${this.#marginMs}`);
    this.#minRate = Math.min(this.#rate, positiveInteger('minRatePerSecond', options.minRatePerSecond ?? RATE_LIMITER_DEFAULTS.minRatePerSecond));
    this.#recovery = positiveInteger('recoveryPerWindow', options.recoveryPerWindow ?? Math.ceil(this.#rate / 10));
    this.#cooldownMs = options.penaltyCooldownMs ?? this.#windowMs;
    this.#smooth = options.smooth ?? RATE_LIMITER_DEFAULTS.smooth;
    this.#now = options.now ?? monotonicClock;
    this.#sleep = options.sleep ?? realSleep;
    this.#starts = new Float64Array(this.#rate);
    this.#penaltyRate = this.#rate;
  }

  /** The configured (maximum) rate per window. */
  get configuredRate(): number {
    return this.#rate;
  }

  /** The rate currently enforced: lower than configured after a penalty, recovering additively. */
  get effectiveRate(): number {
    return this.#effectiveRateAt(this.#now());
  }

  /** How many callers are waiting for a start slot. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Resolves when the caller may start one call; the start is recorded at that moment, so send right away.
   * Waiters are served in arrival order.
   */
  acquire(): Promise<void> {
    if (this.waiting === 0 && this.#waitMs(this.#now()) <= 0) {
      this.#recordStart(this.#now());
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#queue.push(resolve);
      void this.#pump();
    });
  }

  /**
   * Reports a rate-limit answer from the server: halves the effective rate (not below the minimum).
   * It then climbs back by `recoveryPerWindow` per window (additive increase, multiplicative decrease).
   */
  penalize(): void {
    const now = this.#now();
    if (now - this.#penalizedAt < this.#cooldownMs) return;
    this.#penaltyRate = Math.max(this.#minRate, Math.floor(this.#effectiveRateAt(now) / 2));
    this.#penalizedAt = now;
  }

  #effectiveRateAt(now: number): number {
    if (this.#penaltyRate >= this.#rate) return this.#rate;
    const windows = Math.floor((now - this.#penalizedAt) / this.#windowMs);
    const rate = Math.min(this.#rate, this.#penaltyRate + windows * this.#recovery);
    if (rate >= this.#rate) this.#penaltyRate = this.#rate; // fully recovered: skip the arithmetic from now on
    return rate;
  }

  /**
   * Ms until the next start is allowed: the `rate`-th previous start must be a window + margin old and,
   * when smoothing, the previous start must be `windowMs / rate` old.
   */
  #waitMs(now: number): number {
    if (this.#startCount === 0) return 0;
    const rate = this.#effectiveRateAt(now);
    const previous = this.#starts[(this.#startCount - 1) % this.#rate] ?? Number.NEGATIVE_INFINITY;
    const spacingWait = this.#smooth ? previous + this.#windowMs / rate - now : 0;
    if (this.#startCount < rate) return spacingWait;
    const nthPrevious = this.#starts[(this.#startCount - rate) % this.#rate] ?? Number.NEGATIVE_INFINITY;
    return Math.max(spacingWait, nthPrevious + this.#windowMs + this.#marginMs - now);
  }

  #recordStart(now: number): void {
    this.#starts[this.#startCount % this.#rate] = now;
    this.#startCount += 1;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.waiting > 0) {
        const now = this.#now();
        const wait = this.#waitMs(now);
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
        this.#recordStart(now);
        const resolve = this.#queue[this.#head];
        this.#head += 1;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        resolve?.();
      }
    } finally {
      this.#pumping = false;
    }
  }
}

let processLimiter: RateLimiter | undefined;

/**
 * The process-wide limiter at the default rate. IM's limit is per app, so every client in a process
 * should share one budget; a Lambda copy gets its own share through explicit `ratePerSecond` instead.
 */
export function processRateLimiter(): RateLimiter {
  processLimiter ??= new RateLimiter();
  return processLimiter;
}
