/**
 * A sliding-window call pacer: never more than `ratePerSecond` call starts in any window of `windowMs`.
 *
 * IM allows 100 calls per second per app and per API (e.g. doc 269/45938) and answers 60007/60011 past it.
 * The limiter keeps the times of the last N starts; a call may start when the N-th most recent one is
 * at least one window (plus a safety margin) old. That bounds every sliding window exactly, unlike a
 * token bucket, whose burst can straddle the server's window.
 *
 * The server counts at request ARRIVAL. A request on a new connection (TCP/TLS handshake) leaves much
 * later than it was granted, while one on a warm connection leaves at once: counted at grant time, the
 * later one of two such requests a window apart could arrive less than a window after the first. So the
 * caller reports, through the returned {@link StartTicket}, when the request actually left, and that
 * later time is what counts. Starts are also spread evenly (`smooth`), so requests do not queue behind
 * each other on their way to the server.
 *
 * The limiter only paces STARTS: it holds nothing while a call is in flight, so latency does not reduce
 * throughput. Calls in flight are bounded separately ({@link ConcurrencyLimiter}).
 */
import { monotonicClock, realSleep } from './clock.ts';
import type { Clock, Sleep } from './clock.ts';
import type { CallPacer, StartTicket } from './call-pacer.ts';
import { insertSorted, upperBound } from './sorted.ts';
import { WaiterQueue } from './waiter-queue.ts';

/** Options of {@link RateLimiter}; every field has a default. */
export interface RateLimiterOptions {
  /** Most call starts in any window. Default 100 (IM's documented per-API limit). */
  readonly ratePerSecond?: number;
  /** The window length in ms. Default 1000. */
  readonly windowMs?: number;
  /**
   * Extra time added to the window, in ms, for jitter between a request leaving and arriving. Default 20:
   * measured against the emulator, 5 ms was not always enough for the very first request (the server's
   * own warm-up), and network jitter to Tencent is larger. It costs margin/window of throughput (2%).
   */
  readonly safetyMarginMs?: number;
  /**
   * Factor a rate-limit answer multiplies the pace by. Default 0.8: in a fleet whose shares add up to IM's
   * limit, a rate-limit answer means a slight, momentary overcommit (copies' windows lining up), and halving
   * would cost a copy ~4× more calls than it saves; repeated answers still compound (0.8, 0.64, …).
   */
  readonly penaltyFactor?: number;
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
   * Spread starts at least `windowMs / rate` apart on an even grid instead of spending a window's budget
   * in one burst. Default true. A burst of 64 requests started in one millisecond reaches the server over
   * tens of milliseconds (serialization, the server's own queue) while a later, smaller burst arrives
   * faster: measured at arrival, the server could see more than the rate in one window.
   */
  readonly smooth?: boolean;
  /**
   * When smoothing, how far the even grid may lag behind now and still be caught up, in ms. Default 250.
   * A worker copy leaves gaps between its batches (settle, receive); without catch-up each gap is lost
   * share, ~2–5 % of a copy's pace in bursts. Catching up starts the missed slots at once, which the
   * sliding window still bounds (never more than `rate` starts in any window plus margin). A copy idle
   * for longer restarts the grid at now, so a cold or long-idle copy does not burst.
   */
  readonly catchUpMs?: number;
  /** Monotonic time source in ms. Default `performance.now()`. */
  readonly now?: Clock;
  /** Waits; default a real timer. */
  readonly sleep?: Sleep;
}

/** The defaults of {@link RateLimiterOptions}. */
const RATE_LIMITER_DEFAULTS = {
  ratePerSecond: 100,
  windowMs: 1000,
  safetyMarginMs: 20,
  minRatePerSecond: 1,
  penaltyFactor: 0.8,
  smooth: true,
  catchUpMs: 250,
} as const;

function positiveNumber(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`RateLimiter: ${name} must be a positive number, got ${value}`);
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`RateLimiter: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Paces call starts to a sliding-window rate, serving waiters first-in first-out. */
export class RateLimiter implements CallPacer {
  readonly #rate: number;
  readonly #windowMs: number;
  readonly #marginMs: number;
  readonly #minRate: number;
  readonly #recovery: number;
  readonly #cooldownMs: number;
  readonly #penaltyFactor: number;
  readonly #smooth: boolean;
  readonly #catchUpMs: number;
  readonly #now: Clock;
  readonly #sleep: Sleep;

  /** Times of the most recent starts, ascending, at most `#rate` of them (no more are ever needed). */
  #times: number[] = [];
  /**
   * When smoothing, the earliest next start on an even grid. Kept on the grid (not moved by the timer's
   * lateness or short gaps, up to `catchUpMs`) so they do not add up to a lower rate; restarted after idle time.
   */
  #nextSpacedStart = Number.NEGATIVE_INFINITY;

  readonly #queue = new WaiterQueue();
  #pumping = false;

  /** Rate right after the last penalty, and when it happened; recovery is computed lazily from them. */
  #penaltyRate: number;
  #penalizedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RateLimiterOptions = {}) {
    // A copy's share of a fleet budget may be fractional (e.g. 98 calls/s over 5 copies = 19.6): starts are
    // spaced 1000/rate ms apart, and any window holds at most ceil(rate) of them.
    this.#rate = positiveNumber('ratePerSecond', options.ratePerSecond ?? RATE_LIMITER_DEFAULTS.ratePerSecond);
    this.#windowMs = positiveInteger('windowMs', options.windowMs ?? RATE_LIMITER_DEFAULTS.windowMs);
    this.#marginMs = options.safetyMarginMs ?? RATE_LIMITER_DEFAULTS.safetyMarginMs;
    if (!(this.#marginMs >= 0) || !Number.isFinite(this.#marginMs))
      throw new RangeError(`RateLimiter: safetyMarginMs must be a finite number >= 0, got ${this.#marginMs}`);
    this.#minRate = Math.min(
      this.#rate,
      positiveNumber('minRatePerSecond', options.minRatePerSecond ?? RATE_LIMITER_DEFAULTS.minRatePerSecond),
    );
    this.#recovery = positiveInteger('recoveryPerWindow', options.recoveryPerWindow ?? Math.ceil(this.#rate / 10));
    this.#cooldownMs = options.penaltyCooldownMs ?? this.#windowMs;
    this.#penaltyFactor = options.penaltyFactor ?? RATE_LIMITER_DEFAULTS.penaltyFactor;
    if (!(this.#penaltyFactor > 0 && this.#penaltyFactor < 1))
      throw new RangeError(`RateLimiter: penaltyFactor must be between 0 and 1, got ${this.#penaltyFactor}`);
    this.#smooth = options.smooth ?? RATE_LIMITER_DEFAULTS.smooth;
    this.#catchUpMs = options.catchUpMs ?? RATE_LIMITER_DEFAULTS.catchUpMs;
    if (!(this.#catchUpMs >= 0) || !Number.isFinite(this.#catchUpMs))
      throw new RangeError(`RateLimiter: catchUpMs must be a finite number >= 0, got ${this.#catchUpMs}`);
    this.#now = options.now ?? monotonicClock;
    this.#sleep = options.sleep ?? realSleep;
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
    return this.#queue.size;
  }

  /**
   * About how many more starts could be granted within `ms` from now, after the callers already waiting.
   * Lets a caller with a short budget take only the work that can start in time and hand the rest on.
   */
  startsWithin(ms: number): number {
    const now = this.#now();
    const first = Math.max(0, this.#waitMs(now));
    if (first > ms) return 0;
    const rate = this.#effectiveRateAt(now);
    const spaced = this.#smooth ? Math.floor(((ms - first) * rate) / this.#windowMs) + 1 : Math.ceil(rate);
    return Math.max(0, Math.min(spaced, Math.ceil(rate) * Math.ceil(ms / this.#windowMs + 1)) - this.waiting);
  }

  /** A start now if one is free and nobody is waiting, else undefined: for a caller that has other sources of starts. */
  tryAcquire(): StartTicket | undefined {
    const now = this.#now();
    return this.waiting === 0 && this.#waitMs(now) <= 0 ? this.#grant(now) : undefined;
  }

  /** Ms until the next start could be granted (0 when one is free now), not counting callers waiting. */
  nextStartInMs(): number {
    return Math.max(0, this.#waitMs(this.#now()));
  }

  /**
   * Resolves when the caller may start one call, with a ticket to report when the request left.
   * Waiters are served in arrival order.
   */
  acquire(): Promise<StartTicket>;
  /**
   * As `acquire()`, but gives up when no slot comes within `maxWaitMs`: resolves `undefined` then, and the
   * slot it would have taken goes to the next caller. A caller racing a deadline thus never burns a slot
   * it can no longer use.
   */
  acquire(maxWaitMs: number): Promise<StartTicket | undefined>;
  acquire(maxWaitMs = Number.POSITIVE_INFINITY): Promise<StartTicket | undefined> {
    const now = this.#now();
    if (this.waiting === 0 && this.#waitMs(now) <= 0) return Promise.resolve(this.#grant(now));
    if (maxWaitMs <= 0) return Promise.resolve(undefined);
    return new Promise<StartTicket | undefined>((resolve) => {
      this.#queue.push({ resolve, latest: now + maxWaitMs });
      void this.#pump();
    });
  }

  /**
   * Reports a rate-limit answer from the server: multiplies the effective rate by `penaltyFactor` (not below
   * the minimum).
   * It then climbs back by `recoveryPerWindow` per window (additive increase, multiplicative decrease).
   */
  penalize(): void {
    const now = this.#now();
    if (now - this.#penalizedAt < this.#cooldownMs) return;
    this.#penaltyRate = Math.max(this.#minRate, this.#effectiveRateAt(now) * this.#penaltyFactor);
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
   * Ms until the next start is allowed: the `rate`-th most recent start must be a window + margin old
   * and, when smoothing, the grid's next slot must have come.
   */
  #waitMs(now: number): number {
    const spacingWait = this.#smooth ? this.#nextSpacedStart - now : 0;
    const cap = Math.ceil(this.#effectiveRateAt(now));
    const times = this.#times;
    if (times.length < cap) return spacingWait;
    const nthMostRecent = times[times.length - cap] ?? Number.NEGATIVE_INFINITY;
    return Math.max(spacingWait, nthMostRecent + this.#windowMs + this.#marginMs - now);
  }

  #grant(now: number): StartTicket {
    const spacing = this.#windowMs / this.#effectiveRateAt(now);
    const slot = now - this.#nextSpacedStart <= Math.max(spacing, this.#catchUpMs) ? this.#nextSpacedStart : now;
    this.#nextSpacedStart = slot + spacing;
    this.#insert(now);
    let counted = now;
    return {
      sent: () => {
        const at = this.#now();
        if (at <= counted) return;
        // Count the start from when it left; if it already aged out of the kept times, nothing is removed.
        const index = upperBound(this.#times, counted) - 1;
        if (index >= 0 && this.#times[index] === counted) this.#times.splice(index, 1);
        counted = at;
        this.#insert(at);
      },
    };
  }

  #insert(time: number): void {
    const times = this.#times;
    insertSorted(times, time);
    if (times.length > Math.ceil(this.#rate)) times.shift();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.waiting > 0) {
        const now = this.#now();
        const wait = this.#waitMs(now);
        if (wait > 0) {
          // Wake for the first waiter's own limit too: it gives up then, not when the next start comes.
          const head = this.#queue.peek();
          await this.#sleep(head === undefined ? wait : Math.max(0, Math.min(wait, head.latest - now + 1)));
          const first = this.#queue.peek();
          if (first !== undefined && this.#now() > first.latest && this.#waitMs(this.#now()) > 0) {
            this.#queue.shift();
            first.resolve(undefined);
          }
          continue;
        }
        const waiter = this.#queue.shift();
        if (waiter === undefined) continue;
        // A waiter whose time ran out leaves without a slot; the next one gets it.
        if (now > waiter.latest) waiter.resolve(undefined);
        else waiter.resolve(this.#grant(now));
      }
    } finally {
      this.#pumping = false;
    }
  }
}
