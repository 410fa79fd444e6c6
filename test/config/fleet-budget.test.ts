import { describe, expect, it } from 'vitest';
import {
  FleetBudgetError,
  planFleetBudget,
  planSharedGrid,
  type FleetBudgetInput,
} from '../../lib/pacing/fleet-budget.ts';

const VALID: FleetBudgetInput = { imRateLimit: 100, apiRateShare: 10, apiMaxConcurrency: 2, workerMaxConcurrency: 5 };

/** Runs `planFleetBudget` and returns the error it throws (fails the test when it throws none). */
function refusal(input: FleetBudgetInput): FleetBudgetError {
  try {
    planFleetBudget(input);
  } catch (error) {
    if (error instanceof FleetBudgetError) return error;
    throw error;
  }
  throw new Error('planFleetBudget accepted the input');
}

describe('planFleetBudget', () => {
  it('splits the API share across API copies and the rest across worker copies', () => {
    // Prepare
    const input = VALID;

    // Act
    const budget = planFleetBudget(input);

    // Assess
    expect(budget).toEqual({ ...input, apiCallsPerSecondPerCopy: 5, workerCallsPerSecondPerCopy: 18 });
  });

  it('gives fractional per-copy shares and never commits more than the limit', () => {
    // Prepare
    const input: FleetBudgetInput = {
      imRateLimit: 100,
      apiRateShare: 10,
      apiMaxConcurrency: 3,
      workerMaxConcurrency: 7,
    };

    // Act
    const budget = planFleetBudget(input);

    // Assess
    expect(budget.apiCallsPerSecondPerCopy).toBeCloseTo(10 / 3, 12);
    expect(budget.workerCallsPerSecondPerCopy).toBeCloseTo(90 / 7, 12);
    const committed = budget.apiCallsPerSecondPerCopy * 3 + budget.workerCallsPerSecondPerCopy * 7;
    expect(committed).toBeLessThanOrEqual(100 + 1e-9);
    expect(committed).toBeCloseTo(100, 9);
  });

  it('accepts a share of less than one call per second per copy', () => {
    // Prepare
    const input: FleetBudgetInput = {
      imRateLimit: 100,
      apiRateShare: 1,
      apiMaxConcurrency: 4,
      workerMaxConcurrency: 1000,
    };

    // Act
    const budget = planFleetBudget(input);

    // Assess
    expect(budget.apiCallsPerSecondPerCopy).toBe(0.25);
    expect(budget.workerCallsPerSecondPerCopy).toBeCloseTo(0.099, 12);
  });

  it('accepts the edges of the ranges: 1 API copy, 2 and 1000 worker copies', () => {
    // Prepare
    const low: FleetBudgetInput = { ...VALID, apiMaxConcurrency: 1, workerMaxConcurrency: 2 };
    const high: FleetBudgetInput = { ...VALID, workerMaxConcurrency: 1000 };

    // Act
    const lowBudget = planFleetBudget(low);
    const highBudget = planFleetBudget(high);

    // Assess
    expect(lowBudget).toMatchObject({ apiCallsPerSecondPerCopy: 10, workerCallsPerSecondPerCopy: 45 });
    expect(highBudget.workerCallsPerSecondPerCopy).toBeCloseTo(0.09, 12);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['NaN', Number.NaN],
  ])('refuses an IM rate limit that is %s, naming IM_RATE_LIMIT', (_label, imRateLimit) => {
    // Prepare
    const input = { ...VALID, imRateLimit };

    // Act
    const error = refusal(input);

    // Assess
    expect(error.name).toBe('FleetBudgetError');
    expect(error.message).toBe(`IM_RATE_LIMIT must be > 0 (got ${imRateLimit})`);
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['equal to the limit (leaves the workers nothing)', 100],
    ['above the limit', 150],
    ['NaN', Number.NaN],
  ])('refuses an API share that is %s, naming API_RATE_SHARE and the limit', (_label, apiRateShare) => {
    // Prepare
    const input = { ...VALID, apiRateShare };

    // Act
    const error = refusal(input);

    // Assess
    expect(error.message).toContain('API_RATE_SHARE must be > 0 and < IM_RATE_LIMIT 100');
    expect(error.message).toContain(`(got ${apiRateShare})`);
    expect(error.message).toContain('the worker fleet needs a share too');
  });

  it.each([
    ['zero', 0],
    ['fractional', 1.5],
    ['negative', -2],
    ['NaN', Number.NaN],
  ])('refuses an API concurrency that is %s, naming API_MAX_CONCURRENCY', (_label, apiMaxConcurrency) => {
    // Prepare
    const input = { ...VALID, apiMaxConcurrency };

    // Act
    const error = refusal(input);

    // Assess
    expect(error.message).toBe(`API_MAX_CONCURRENCY must be a whole number ≥ 1 (got ${apiMaxConcurrency})`);
  });

  it.each([
    ['1 (Lambda needs at least 2)', 1],
    ['1001 (Lambda allows at most 1000)', 1001],
    ['fractional', 2.5],
    ['NaN', Number.NaN],
  ])('refuses a worker concurrency of %s, naming WORKER_MAX_CONCURRENCY', (_label, workerMaxConcurrency) => {
    // Prepare
    const input = { ...VALID, workerMaxConcurrency };

    // Act
    const error = refusal(input);

    // Assess
    expect(error.message).toBe(
      `WORKER_MAX_CONCURRENCY must be a whole number from 2 to 1000 (got ${workerMaxConcurrency})`,
    );
  });

  it('checks the limit before the share, so the first broken rule is the one reported', () => {
    // Prepare
    const input: FleetBudgetInput = { imRateLimit: 0, apiRateShare: 0, apiMaxConcurrency: 0, workerMaxConcurrency: 0 };

    // Act
    const error = refusal(input);

    // Assess
    expect(error.message).toMatch(/^IM_RATE_LIMIT/);
  });
});

describe('planSharedGrid', () => {
  const DEFAULT_GRID = {
    imRateLimit: 100,
    marginPerSecond: 2,
    workerFloorRate: 0.8,
    workerReservedConcurrency: 4,
    workerMaxConcurrency: 2,
  } as const;

  /** Runs `planSharedGrid` and returns the message of the error it throws (fails the test when it throws none). */
  function gridRefusal(input: Parameters<typeof planSharedGrid>[0]): string {
    try {
      planSharedGrid(input);
    } catch (error) {
      if (error instanceof FleetBudgetError) return error.message;
      throw error;
    }
    throw new Error('planSharedGrid accepted the input');
  }

  it('hands the grid what the margin and the floor’s worst second leave', () => {
    // Act
    const grid = planSharedGrid(DEFAULT_GRID);

    // Assess: a floor of 0.8 calls/s opens 250 ms of each 1.25 s slot, so floor calls are over a second apart
    expect(grid.floorWorstSecond).toBe(1);
    expect(grid.gridRate).toBe(97);
  });

  it('keeps the same grid however many lanes invocations run, since the floor is the fleet’s, not each copy’s', () => {
    // Act
    const sizes = [2, 5, 10, 50].map(
      (n) => planSharedGrid({ ...DEFAULT_GRID, workerReservedConcurrency: n, workerMaxConcurrency: n }).gridRate,
    );

    // Assess
    expect(sizes).toEqual([97, 97, 97, 97]);
  });

  it('reserves one call for a floor under 1 call/s, and ceil(rate) + 1 for a faster one (a second meets that many whole slots)', () => {
    // Act
    const grids = [0.5, 1, 2, 2.5].map((workerFloorRate) => planSharedGrid({ ...DEFAULT_GRID, workerFloorRate }));

    // Assess
    expect(grids.map((g) => g.floorWorstSecond)).toEqual([1, 2, 3, 4]);
    expect(grids.map((g) => g.gridRate)).toEqual([97, 96, 95, 94]);
  });

  it('refuses a reserved concurrency below the lanes mapping’s, no floor, and a grid with nothing to share', () => {
    // Act
    const starved = gridRefusal({ ...DEFAULT_GRID, workerReservedConcurrency: 1 });
    const noFloor = gridRefusal({ ...DEFAULT_GRID, workerFloorRate: 0 });
    const nothing = gridRefusal({ ...DEFAULT_GRID, marginPerSecond: 60, workerFloorRate: 40 });

    // Assess
    expect(starved).toContain('WORKER_RESERVED_CONCURRENCY must be a whole number ≥ WORKER_MAX_CONCURRENCY 2');
    expect(noFloor).toContain('WORKER_FLOOR_RATE must be > 0');
    expect(nothing).toContain('leaves nothing to share');
  });
});
