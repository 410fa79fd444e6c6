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

export class FleetBudgetError extends Error {
  override readonly name = 'FleetBudgetError';
}

/**
 * Splits the limit and checks the arithmetic: a budget whose copies together could start more calls
 * than IM allows is refused at start-up rather than discovered as rate-limit answers in production.
 */
export function planFleetBudget(input: FleetBudgetInput): FleetBudget {
  const { imRateLimit, apiRateShare, apiMaxConcurrency, workerMaxConcurrency } = input;
  if (!(imRateLimit > 0)) throw new FleetBudgetError(`IM_RATE_LIMIT must be > 0 (got ${imRateLimit})`);
  if (!(apiRateShare > 0 && apiRateShare < imRateLimit)) {
    throw new FleetBudgetError(`API_RATE_SHARE must be > 0 and < IM_RATE_LIMIT ${imRateLimit} (got ${apiRateShare}): the worker fleet needs a share too`);
  }
  if (!Number.isInteger(apiMaxConcurrency) || apiMaxConcurrency < 1) {
    throw new FleetBudgetError(`API_MAX_CONCURRENCY must be a whole number ≥ 1 (got ${apiMaxConcurrency})`);
  }
  // Lambda's event source mapping accepts maximumConcurrency from 2 to 1000.
  if (!Number.isInteger(workerMaxConcurrency) || workerMaxConcurrency < 2 || workerMaxConcurrency > 1000) {
    throw new FleetBudgetError(`WORKER_MAX_CONCURRENCY must be a whole number from 2 to 1000 (got ${workerMaxConcurrency})`);
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
