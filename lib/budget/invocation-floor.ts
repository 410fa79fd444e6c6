/**
 * A worker copy's static floor, open only inside lanes invocations and only from 1 s after one begins.
 *
 * Why: the fleet's worst second must fit IM's limit by construction, whichever copies reach the budget
 * table. At most `workerMaxConcurrency` lanes invocations run at once (the event source mapping's
 * `maximumConcurrency`), so they form at most that many chains of invocations that do not overlap. Within an
 * invocation floor starts are spaced by the floor's own limiter (one per second at most, for a floor of ≤ 1
 * call/s); the next invocation of a chain starts after the last one ended and opens its floor a second
 * later. So no chain starts two floor calls in any 1 s window, and the whole fleet's floors start at most
 * `workerMaxConcurrency × ceil(floor)` calls in any second, however Lambda hands invocations to copies (a
 * copy's own limiter alone would allow one per copy that ever existed, `workerReservedConcurrency`).
 */
import type { Clock } from '../pacing/clock.ts';
import type { RateLimiter, StartTicket } from '../pacing/rate-limiter.ts';

/** What a pacer draws from a floor; a plain {@link RateLimiter} is one that is always open. */
export interface Floor {
  readonly configuredRate: number;
  tryAcquire(): StartTicket | undefined;
  nextStartInMs(): number;
  startsWithin(ms: number): number;
  penalize(): void;
}

/** How long after an invocation begins its floor opens. */
export const FLOOR_OPENS_AFTER_MS = 1000;

export class InvocationFloor implements Floor {
  readonly #limiter: RateLimiter;
  readonly #now: Clock;
  /** Invocations in progress in this copy (more than one only where a test runs pollers side by side). */
  #active = 0;
  #opensAt = Number.POSITIVE_INFINITY;

  constructor(limiter: RateLimiter, now: Clock = () => performance.now()) {
    this.#limiter = limiter;
    this.#now = now;
  }

  get configuredRate(): number {
    return this.#limiter.configuredRate;
  }

  /** A lanes invocation begins: the floor opens a second from now. */
  begin(): void {
    if (this.#active === 0) this.#opensAt = this.#now() + FLOOR_OPENS_AFTER_MS;
    this.#active += 1;
  }

  /** A lanes invocation ended. */
  end(): void {
    this.#active = Math.max(0, this.#active - 1);
    if (this.#active === 0) this.#opensAt = Number.POSITIVE_INFINITY;
  }

  tryAcquire(): StartTicket | undefined {
    return this.#now() >= this.#opensAt ? this.#limiter.tryAcquire() : undefined;
  }

  nextStartInMs(): number {
    if (this.#active === 0) return Number.POSITIVE_INFINITY;
    return Math.max(this.#opensAt - this.#now(), this.#limiter.nextStartInMs());
  }

  startsWithin(ms: number): number {
    const open = this.#opensAt - this.#now();
    return open > ms ? 0 : this.#limiter.startsWithin(ms - Math.max(0, open));
  }

  penalize(): void {
    this.#limiter.penalize();
  }
}
