/**
 * What the IM client needs from pacing: a start for each attempt, and a way to report a rate-limit answer.
 * A copy's own {@link RateLimiter} is one; the fleet's shared slot grid (fleet-pacer.ts) is another.
 */
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

/** A granted start. */
export interface StartTicket {
  /**
   * Reports that the request has left (its last byte was written to the socket); the start then counts
   * from that moment. Optional: without it, the start counts from the grant.
   */
  sent(): void;
  /**
   * Whether the start is too late to use now: a pacer that counts a start at its slot's time (the fleet's grid)
   * says so once the slot is past its tolerance. The caller then drops it and acquires another, so a request
   * delayed after its grant (a slow credentials read, a blocked event loop) never bunches up with punctual ones.
   * Absent: the start counts from `sent()`, and is never late.
   */
  late?(): boolean;
}
