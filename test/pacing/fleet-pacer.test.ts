import { describe, expect, it } from 'vitest';
import { FleetPacer, type FleetPacerOptions } from '../../lib/pacing/fleet-pacer.ts';
import { LaneSlotFloor } from '../../lib/pacing/lane-slot-floor.ts';
import { RateLimiter } from '../../lib/pacing/rate-limiter.ts';
import { fakeScheduler, type FakeScheduler } from './fake-scheduler.ts';
import type { SlotLedger } from '../../lib/pacing/slot-ledger.ts';
import { InMemorySlotLedger } from './in-memory-ledger.ts';
import { mostInWindow } from './most-in-window.ts';

const COMMAND = 'all_member_push/im_set_attr';

function pacer(
  time: FakeScheduler,
  options: Partial<FleetPacerOptions> & Pick<FleetPacerOptions, 'ledger' | 'gridRate'>,
): FleetPacer {
  return new FleetPacer({ command: COMMAND, floor: undefined, now: time.now, sleep: time.sleep, ...options });
}

function floorOf(time: FakeScheduler, rate: number): RateLimiter {
  return new RateLimiter({ ratePerSecond: rate, now: time.now, sleep: time.sleep });
}

/** Queues `count` acquires and records when each was granted (undefined: gave up). */
function demand(
  p: FleetPacer,
  time: FakeScheduler,
  count: number,
  grants: number[],
  maxWaitMs?: number,
): Promise<void>[] {
  return Array.from({ length: count }, async () => {
    const ticket = maxWaitMs === undefined ? await p.acquire() : await p.acquire(maxWaitMs);
    if (ticket !== undefined) grants.push(time.now());
  });
}

describe('FleetPacer', () => {
  it('lets copies sharing the grid start no more than its rate in any second, and uses nearly all of it', async () => {
    // Prepare: three busy copies on one grid of 50 calls/s
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const copies = [0, 1, 2].map(() => pacer(time, { ledger, gridRate: 50 }));
    const grants: number[] = [];

    // Act
    const start = time.now();
    copies.forEach((copy) => void demand(copy, time, 200, grants));
    await time.runUntil(start + 4000);

    // Assess
    expect(mostInWindow(grants)).toBeLessThanOrEqual(50);
    const inFirstThreeSeconds = grants.filter((t) => t < start + 3000).length;
    expect(inFirstThreeSeconds).toBeGreaterThanOrEqual(145);
    // Every copy got a fair part of the grid, not one copy all of it.
    expect(Math.min(...copies.map((c) => c.stats.leased))).toBeGreaterThan(40);
  });

  it('says a grid start is late once its slot is past the tolerance, so the caller takes another instead of bunching', async () => {
    // Prepare
    const time = fakeScheduler();
    const copy = pacer(time, { ledger: new InMemorySlotLedger(), gridRate: 50, lateToleranceMs: 10 });
    const grants: number[] = [];
    const tickets: ({ late?(): boolean } | undefined)[] = [];
    let onTime: boolean | undefined;
    void (async () => {
      tickets.push(await copy.acquire());
      grants.push(time.now());
      onTime = tickets[0]?.late?.();
    })();

    // Act
    await time.runUntil(time.now() + 200);
    const afterTolerance = tickets[0]?.late?.();

    // Assess
    expect(grants).toHaveLength(1);
    expect(onTime).toBe(false);
    expect(afterTolerance).toBe(true);
  });

  it('keeps the fleet within the limit when some copies reach the grid and others run on their floor', async () => {
    // Prepare: limit 100 = margin 2 + floors 3 × 2 + grid 92; copy 0 cannot reach the table
    const time = fakeScheduler();
    const shared = new InMemorySlotLedger();
    const lost = new InMemorySlotLedger();
    lost.failure = new Error('ResourceNotFoundException');
    const copies = [lost, shared, shared].map((ledger) =>
      pacer(time, { ledger, gridRate: 92, floor: floorOf(time, 2) }),
    );
    const grants: number[] = [];

    // Act
    const start = time.now();
    copies.forEach((copy) => void demand(copy, time, 400, grants));
    await time.runUntil(start + 3000);

    // Assess
    expect(mostInWindow(grants)).toBeLessThanOrEqual(100);
    expect(grants.length).toBeGreaterThan(250);
  });

  it('keeps ten busy copies within the limit with the fleet’s floor, whether or not each reaches the table', async () => {
    // Prepare: limit 100 = margin 2 + the floor's worst second 1 + grid 97; each copy holds 2 of 20 lanes;
    // copies 0–3 cannot reach the table and run on the floor alone
    const time = fakeScheduler(1_800_000_000_000);
    const shared = new InMemorySlotLedger();
    const lost = new InMemorySlotLedger();
    lost.failure = new Error('ResourceNotFoundException');
    const copies = Array.from({ length: 10 }, (_, i) => {
      const floor = new LaneSlotFloor({ floorRate: 0.8, laneCount: 20, now: time.now });
      floor.begin([2 * i, 2 * i + 1]);
      return pacer(time, { ledger: i < 4 ? lost : shared, gridRate: 97, floor });
    });
    const grants: number[] = [];

    // Act
    const start = time.now();
    copies.forEach((copy) => void demand(copy, time, 200, grants));
    await time.runUntil(start + 6000);

    // Assess: the grid's 97 and at most one floor call in any second; the floor did start calls
    expect(mostInWindow(grants)).toBeLessThanOrEqual(98);
    expect(grants.length).toBeGreaterThan(5 * 97);
    expect(grants.filter((t) => t < start + 6000).length).toBeLessThanOrEqual(6 * 97 + 6);
  });

  it('runs on its floor alone while the ledger fails, and back on the grid once it answers again', async () => {
    // Prepare
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    ledger.failure = new Error('table gone');
    const errors: unknown[] = [];
    const copy = pacer(time, {
      ledger,
      gridRate: 50,
      floor: floorOf(time, 5),
      retryFirstMs: 500,
      retryMaxMs: 500,
      onLedgerError: (e) => errors.push(e),
    });
    const grants: number[] = [];

    // Act
    const start = time.now();
    void demand(copy, time, 300, grants);
    await time.runUntil(start + 2000);
    const onFloor = grants.length;
    ledger.failure = undefined;
    await time.runUntil(start + 4000);

    // Assess: ~5/s on the floor, then the grid's 50/s as well
    expect(onFloor).toBeGreaterThanOrEqual(9);
    expect(onFloor).toBeLessThanOrEqual(11);
    expect(errors.length).toBeGreaterThan(0);
    expect(grants.length - onFloor).toBeGreaterThan(80);
  });

  it('without a floor and without the grid, gives up at the caller’s wait and promises no starts until the backoff is over', async () => {
    // Prepare: the API's pacer (no floor) with its table gone
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    ledger.failure = new Error('table gone');
    const copy = pacer(time, { ledger, gridRate: 90, retryFirstMs: 1000 });
    const grants: number[] = [];

    // Act
    const start = time.now();
    const waits = demand(copy, time, 1, grants, 300);
    await time.runUntil(start + 500);
    await Promise.all(waits);
    const duringBackoff = copy.startsWithin(200);

    // Assess
    expect(grants).toEqual([]);
    expect(duringBackoff).toBe(0);
  });

  it('tries a lease again after the backoff: one failed lease does not turn the early write off for the life of the copy', async () => {
    // Prepare: the API's pacer (no floor); its first lease fails, then the table answers again
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    ledger.failure = new Error('throttled');
    const copy = pacer(time, { ledger, gridRate: 90, retryFirstMs: 1000 });
    const first: number[] = [];
    const start = time.now();
    const waits = demand(copy, time, 1, first, 300);
    await time.runUntil(start + 400);
    await Promise.all(waits);
    ledger.failure = undefined;

    // Act
    await time.runUntil(start + 1100);
    const afterBackoff = copy.startsWithin(200);
    const later: number[] = [];
    const retry = demand(copy, time, 1, later, 300);
    await time.runUntil(start + 1500);
    await Promise.all(retry);

    // Assess
    expect(first).toEqual([]);
    expect(afterBackoff).toBeGreaterThan(0);
    expect(later).toHaveLength(1);
  });

  it('drops slots that are past when a frozen copy resumes, and does not catch up', async () => {
    // Prepare: a copy with slots booked ahead
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const copy = pacer(time, { ledger, gridRate: 100 });
    const grants: number[] = [];
    const start = time.now();
    void demand(copy, time, 20, grants);
    await time.runUntil(start + 5);
    const before = grants.length;

    // Act: the process is frozen for 3 s, then runs on
    time.jump(3000);
    const resumed = time.now();
    await time.runUntil(resumed + 100);

    // Assess: leased slots of 3 s ago were dropped, and the next 100 ms hold at most ~10 starts (100/s)
    expect(copy.stats.dropped).toBeGreaterThan(0);
    const afterResume = grants.slice(before).filter((t) => t >= resumed);
    expect(afterResume.length).toBeLessThanOrEqual(12);
    expect(mostInWindow(grants, 100)).toBeLessThanOrEqual(12);
  });

  it('books for waiting calls only, a lease at a time, never far beyond now', async () => {
    // Prepare
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const copy = pacer(time, { ledger, gridRate: 100, maxLease: 10, aheadMs: 200 });
    const grants: number[] = [];

    // Act: one call, then a queue of 60
    const start = time.now();
    void demand(copy, time, 1, grants);
    await time.runUntil(start + 50);
    const afterOne = ledger.leases.length;
    void demand(copy, time, 60, grants);
    await time.runUntil(start + 2000);

    // Assess
    expect(afterOne).toBe(1);
    expect(ledger.leases[0]?.count).toBe(1);
    expect(ledger.leases.every((l) => l.count <= 10)).toBe(true);
    // Booked slots never lie more than aheadMs + one lease beyond the time they were asked for.
    expect(copy.stats.leased).toBe(61);
    expect(grants).toHaveLength(61);
  });

  it('books slots for calls announced with expect, so the first call does not wait a lease round trip', async () => {
    // Prepare: a ledger 50 ms away; two copies that have each leased once (so they know the round trip)
    const time = fakeScheduler();
    const slow = (ledger: InMemorySlotLedger): SlotLedger => ({
      lease: (request) => time.sleep(50).then(() => ledger.lease(request)),
      lowerRate: (...args) => ledger.lowerRate(...args),
    });
    const toldLedger = new InMemorySlotLedger();
    const told = pacer(time, { ledger: slow(toldLedger), gridRate: 100, maxLease: 10 });
    const untold = pacer(time, { ledger: slow(new InMemorySlotLedger()), gridRate: 100, maxLease: 10 });
    const warm: number[] = [];
    void demand(told, time, 1, warm);
    void demand(untold, time, 1, warm);
    await time.runUntil(time.now() + 500);

    // Act: the told copy hears of 3 calls 55 ms before they ask (as a round is gathered); the other does not
    const start = time.now();
    const toldGrants: number[] = [];
    const untoldGrants: number[] = [];
    told.expect(3);
    await time.runUntil(start + 55);
    void demand(told, time, 3, toldGrants);
    void demand(untold, time, 3, untoldGrants);
    await time.runUntil(start + 1000);

    // Assess: the told copy's first call started as it asked; the other waited for its lease
    expect(warm).toHaveLength(2);
    expect(toldGrants[0]).toBeLessThanOrEqual(start + 56);
    expect(untoldGrants[0]).toBeGreaterThanOrEqual(start + 105);
    expect(toldGrants).toHaveLength(3);
    // One lease for the announced calls, none beyond them
    expect(toldLedger.leases.filter((l) => l.firstSlotMs >= start).map((l) => l.count)).toEqual([3]);
  });

  it('lets an announcement lapse: calls that never come cost one lease, at most maxLease slots', async () => {
    // Prepare
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const copy = pacer(time, { ledger, gridRate: 100, maxLease: 10, aheadMs: 200 });

    // Act: told of 40 calls that never ask; then, long after, one call asks
    const start = time.now();
    copy.expect(40);
    await time.runUntil(start + 1000);
    const grants: number[] = [];
    void demand(copy, time, 1, grants);
    await time.runUntil(start + 2000);

    // Assess: the first lease was capped at maxLease and its slots dropped; the later call leased for itself alone
    expect(ledger.leases.map((l) => l.count)).toEqual([10, 1]);
    expect(copy.stats.dropped).toBe(10);
    expect(grants).toHaveLength(1);
  });

  it('shares a rate-limit answer: the stored rate drops and every copy spaces its slots wider', async () => {
    // Prepare
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const refused = pacer(time, { ledger, gridRate: 100 });
    const other = pacer(time, { ledger, gridRate: 100 });
    const grants: number[] = [];
    const start = time.now();
    void demand(refused, time, 5, grants);
    await time.runUntil(start + 100);

    // Act
    refused.penalize();
    refused.penalize(); // within the cooldown: one signal
    void demand(other, time, 30, grants);
    await time.runUntil(start + 600);

    // Assess
    expect(ledger.lowered).toEqual([{ command: COMMAND, rate: 90, atMs: start + 100 }]);
    expect(other.gridRateAt(time.now())).toBe(90);
    const spacings = ledger.leases.slice(1).map((l) => l.spacingMs);
    // 1000 / 90 ms, rounded up to the µs.
    expect(spacings.at(-1)).toBe(11.112);
  });

  it('leases at most half the horizon at once, so a slow grid still hands out every second’s slots', async () => {
    // Prepare: 8 calls/s, so 8 slots would span the whole 1 s horizon
    const time = fakeScheduler();
    const ledger = new InMemorySlotLedger();
    const copy = pacer(time, { ledger, gridRate: 8 });
    const grants: number[] = [];

    // Act
    const start = time.now();
    const waits = demand(copy, time, 10, grants, 1000);
    await time.runUntil(start + 1100);
    await Promise.all(waits);

    // Assess: 8 starts within the second, none more than 8 in any window
    expect(grants.length).toBeGreaterThanOrEqual(8);
    expect(mostInWindow(grants)).toBeLessThanOrEqual(8);
    expect(ledger.leases.every((l) => l.count * l.spacingMs <= 500)).toBe(true);
  });

  it('recovers the shared rate by a tenth of the grid per second', () => {
    // Prepare
    const time = fakeScheduler();
    const copy = pacer(time, { ledger: new InMemorySlotLedger(), gridRate: 100, penaltyFactor: 0.8 });

    // Act
    copy.penalize();
    const at = time.now();

    // Assess
    expect(copy.gridRateAt(at)).toBe(80);
    expect(copy.gridRateAt(at + 1000)).toBe(90);
    expect(copy.gridRateAt(at + 5000)).toBe(100);
  });
});
