/**
 * The port of the fleet's shared IM budget: a grid of evenly spaced start times ("slots") per IM command,
 * booked GCRA-style. The ledger keeps one number per command, the time up to which the grid is booked
 * (`bookedUntil`); a lease of k slots moves it on by k spacings, from now when the grid lies idle. Every
 * slot handed out is thus a distinct point on one even grid, so any window of one second holds at most
 * `rate` of them, however many copies lease and in whatever order.
 */

/** A lease of `count` slots of one command's grid. Times are epoch ms (wall clock, shared by the fleet). */
export interface LeaseRequest {
  readonly command: string;
  readonly count: number;
  readonly nowMs: number;
  /** Ms between slots, from the grid's current rate as this copy last read it. */
  readonly spacingMs: number;
  /** How far ahead of now the grid may be booked: a lease that would book past it is refused. */
  readonly horizonMs: number;
}

/** The grid's shared rate state after a rate-limit answer; absent when none has been reported. */
export interface GridPenalty {
  /** The grid's rate, calls/s, right after the last rate-limit answer. */
  readonly rate: number;
  /** When that answer was reported, epoch ms. */
  readonly atMs: number;
}

export type LeaseResult =
  /** Slots `firstSlotMs + i × spacingMs` for i < count are this copy's. */
  | { readonly kind: 'leased'; readonly firstSlotMs: number; readonly penalty: GridPenalty | undefined }
  /** The grid is booked past the horizon: try again later. */
  | { readonly kind: 'full' };

export interface SlotLedger {
  /** Books slots; throws when the ledger cannot be reached (the caller then runs on its floor). */
  lease(request: LeaseRequest): Promise<LeaseResult>;
  /**
   * Lowers the grid's shared rate after a rate-limit answer, at most once per `cooldownMs` for the whole
   * fleet: the calls in flight when IM starts refusing come back refused together, as one signal.
   */
  lowerRate(command: string, rate: number, nowMs: number, cooldownMs: number): Promise<void>;
}
