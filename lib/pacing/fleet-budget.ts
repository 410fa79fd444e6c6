import { floorStartsInWorstSecond } from './lane-slot-floor.ts';
import { GatewayError } from '../core/errors.ts';

/**
 * The fleet-wide IM rate budget. Tencent limits `im_set_attr` to 100 calls/s per app, while Lambda runs
 * many copies of each function: the budget is split explicitly, and every copy paces itself to its share.
 */
export interface FleetBudgetInput {
  /** IM's limit for the app, calls/s (100 for im_set_attr). */
  readonly imRateLimit: number;
  /** Calls/s reserved for the whole API function fleet. */
  readonly apiRateShare: number;
  /** Reserved concurrency of the API function: its share is split across this many copies. */
  readonly apiMaxConcurrency: number;
  /** The worker's event source mapping `maximumConcurrency`: the rest is split across this many copies. */
  readonly workerMaxConcurrency: number;
}

export interface FleetBudget extends FleetBudgetInput {
  /** Calls/s one API function copy may start. */
  readonly apiCallsPerSecondPerCopy: number;
  /** Calls/s one worker copy may start. */
  readonly workerCallsPerSecondPerCopy: number;
}

export class FleetBudgetError extends GatewayError {
  override name = 'FleetBudgetError';
}

/**
 * Splits the limit and checks the arithmetic: a budget whose copies together could start more calls
 * than IM allows is refused at start-up rather than discovered as rate-limit answers in production.
 */
export function planFleetBudget(input: FleetBudgetInput): FleetBudget {
  const { imRateLimit, apiRateShare, apiMaxConcurrency, workerMaxConcurrency } = input;
  if (!(imRateLimit > 0)) throw new FleetBudgetError(`IM_RATE_LIMIT must be > 0 (got ${imRateLimit})`);
  if (!(apiRateShare > 0 && apiRateShare < imRateLimit)) {
    throw new FleetBudgetError(
      `API_RATE_SHARE must be > 0 and < IM_RATE_LIMIT ${imRateLimit} (got ${apiRateShare}): the worker fleet needs a share too`,
    );
  }
  if (!Number.isInteger(apiMaxConcurrency) || apiMaxConcurrency < 1) {
    throw new FleetBudgetError(`API_MAX_CONCURRENCY must be a whole number ≥ 1 (got ${apiMaxConcurrency})`);
  }
  // Lambda's event source mapping accepts maximumConcurrency from 2 to 1000.
  if (!Number.isInteger(workerMaxConcurrency) || workerMaxConcurrency < 2 || workerMaxConcurrency > 1000) {
    throw new FleetBudgetError(
      `WORKER_MAX_CONCURRENCY must be a whole number from 2 to 1000 (got ${workerMaxConcurrency})`,
    );
  }
  const apiCallsPerSecondPerCopy = apiRateShare / apiMaxConcurrency;
  const workerCallsPerSecondPerCopy = (imRateLimit - apiRateShare) / workerMaxConcurrency;
  const committed = apiCallsPerSecondPerCopy * apiMaxConcurrency + workerCallsPerSecondPerCopy * workerMaxConcurrency;
  // Floating point: allow a hair of rounding, never a whole call.
  if (committed > imRateLimit + 1e-9) {
    throw new FleetBudgetError(`the fleet budget overcommits IM: ${committed} calls/s > IM_RATE_LIMIT ${imRateLimit}`);
  }
  return { ...input, apiCallsPerSecondPerCopy, workerCallsPerSecondPerCopy };
}

export interface SharedGridInput {
  /** IM's limit for the app, calls/s per command. */
  readonly imRateLimit: number;
  /** Calls/s kept unused for arrival jitter and clock skew between copies (IM counts arrivals, not sends). */
  readonly marginPerSecond: number;
  /** The worker fleet's static floor, calls/s in all: what it runs on when the grid's table is out of reach. */
  readonly workerFloorRate: number;
  /** The worker function's reserved concurrency: it must cover the lanes mapping's, so the API cannot starve it. */
  readonly workerReservedConcurrency: number;
  /** The lanes mapping's `maximumConcurrency`. */
  readonly workerMaxConcurrency: number;
}

export interface SharedGrid extends SharedGridInput {
  /** What the grid hands out, calls/s for the whole fleet: the limit less the margin and the floor's worst second. */
  readonly gridRate: number;
  /** Most floor calls the fleet can start in any 1 s window. The API has no floor: without the grid it spills. */
  readonly floorWorstSecond: number;
}

/**
 * The shared budget's arithmetic. The worker fleet's floor is handed round the lanes by the clock, one call
 * per slot for the whole fleet (lib/pacing/lane-slot-floor.ts), so in any second it starts at most
 * `ceil(workerFloorRate) + 1` calls however many copies run; the grid hands out only what that and the margin
 * leave (`gridRate = limit − margin − floorWorstSecond`), so the fleet stays within IM's limit whichever
 * copies reach the grid's table.
 */
export function planSharedGrid(input: SharedGridInput): SharedGrid {
  const { imRateLimit, marginPerSecond, workerFloorRate, workerReservedConcurrency, workerMaxConcurrency } = input;
  if (!(marginPerSecond >= 0)) throw new FleetBudgetError(`IM_BUDGET_MARGIN must be ≥ 0 (got ${marginPerSecond})`);
  if (!(workerFloorRate > 0))
    throw new FleetBudgetError(
      `WORKER_FLOOR_RATE must be > 0 (got ${workerFloorRate}): without a floor the workers stop when the budget table is out of reach`,
    );
  if (!Number.isInteger(workerReservedConcurrency) || workerReservedConcurrency < workerMaxConcurrency) {
    throw new FleetBudgetError(
      `WORKER_RESERVED_CONCURRENCY must be a whole number ≥ WORKER_MAX_CONCURRENCY ${workerMaxConcurrency} (got ${workerReservedConcurrency}), so the API cannot starve the worker`,
    );
  }
  const floorWorstSecond = floorStartsInWorstSecond(workerFloorRate);
  const gridRate = imRateLimit - marginPerSecond - floorWorstSecond;
  if (!(gridRate > 0)) {
    throw new FleetBudgetError(
      `IM_RATE_LIMIT ${imRateLimit} less IM_BUDGET_MARGIN ${marginPerSecond} and the ${floorWorstSecond} calls a WORKER_FLOOR_RATE of ${workerFloorRate} can start in one second leaves nothing to share`,
    );
  }
  return { ...input, gridRate, floorWorstSecond };
}
