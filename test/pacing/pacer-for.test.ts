import { describe, expect, it } from 'vitest';
import { FleetPacer } from '../../lib/pacing/fleet-pacer.ts';
import { fleetPacing, ownPacers } from '../../lib/pacing/pacer-for.ts';
import { RateLimiter } from '../../lib/pacing/rate-limiter.ts';
import { InMemorySlotLedger } from './in-memory-ledger.ts';

const SET = 'all_member_push/im_set_attr';
const REMOVE = 'all_member_push/im_remove_attr';
const NAMES = 'all_member_push/im_get_attr_name';

function pacing(grid: boolean, worker: boolean) {
  return fleetPacing({
    grid: grid ? { ledger: new InMemorySlotLedger(), gridRate: 97, workerFloorRate: 0.8 } : undefined,
    callsPerSecond: 50,
    safetyMarginMs: 20,
    sharedCommands: [SET, REMOVE],
    workerFloor: worker ? { laneCount: 250 } : undefined,
    onLedgerError: () => undefined,
  });
}

describe('pacerFor: one pacer per IM command, decided in one place', () => {
  it('puts the shared commands on the fleet grid and the others on a limiter of their own, the same instance each time', () => {
    // Act
    const { pacerFor } = pacing(true, true);

    // Assess
    expect(pacerFor(SET)).toBeInstanceOf(FleetPacer);
    expect(pacerFor(REMOVE)).toBeInstanceOf(FleetPacer);
    expect(pacerFor(SET)).not.toBe(pacerFor(REMOVE));
    expect(pacerFor(SET)).toBe(pacerFor(SET));
    expect(pacerFor(NAMES)).toBeInstanceOf(RateLimiter);
    expect(pacerFor(NAMES).configuredRate).toBe(50);
    // The worker's floor (0.8 calls/s) is part of its pacer's rate; the API copy has none.
    expect(pacerFor(SET).configuredRate).toBeCloseTo(97.8);
    expect(pacing(true, false).pacerFor(SET).configuredRate).toBe(97);
  });

  it('paces every command to the static share without a budget table, and opens every lane', () => {
    // Act
    const { pacerFor, lanesInvocation } = pacing(false, true);

    // Assess
    expect(pacerFor(SET)).toBeInstanceOf(RateLimiter);
    expect(pacerFor(SET).configuredRate).toBe(50);
    expect(pacerFor(SET)).not.toBe(pacerFor(REMOVE));
    expect(typeof lanesInvocation.begin([1, 2])).toBe('function');
  });

  it('gives a single process its own limiter per command at the rate asked', () => {
    const pacerFor = ownPacers(7);
    expect(pacerFor(SET).configuredRate).toBe(7);
    expect(pacerFor(SET)).toBe(pacerFor(SET));
    expect(pacerFor(SET)).not.toBe(pacerFor(NAMES));
  });
});
