/**
 * What the IM client needs from pacing: a start for each attempt, and a way to report a rate-limit answer.
 * A copy's own {@link RateLimiter} is one; the fleet's shared slot grid (lib/budget) is another.
 */
import type { StartTicket } from './rate-limiter.ts';

export interface CallPacer {
  /** The most calls per second this pacer can start (its floor plus any share it can draw). */
  readonly configuredRate: number;
  /** Resolves with a start when one is due; waiters are served first-in first-out. */
  acquire(): Promise<StartTicket>;
  /** As `acquire()`, but resolves `undefined` when no start comes within `maxWaitMs`. */
  acquire(maxWaitMs: number): Promise<StartTicket | undefined>;
  /** Reports a rate-limit answer from IM. */
  penalize(): void;
  /** About how many more starts could be granted within `ms`, after the callers already waiting. */
  startsWithin(ms: number): number;
  /**
   * Announces about this many calls that will ask for a start shortly (a round being gathered). A pacer that books
   * its starts remotely books them now, so the round trip overlaps the caller's own preparation; others ignore it.
   */
  expect?(calls: number): void;
}
