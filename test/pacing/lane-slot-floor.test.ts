import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floorStartsInWorstSecond, LaneSlotFloor } from '../../lib/pacing/lane-slot-floor.ts';
import { fakeTime } from './fake-time.ts';
import { mostInWindow } from './most-in-window.ts';

/** Epoch ms on a slot boundary for every rate used here. */
const T0 = 1_800_000_000_000;
const LANES = 20;

function floorAt(floorRate: number, start = T0) {
  const time = fakeTime(start);
  return { time, floor: new LaneSlotFloor({ floorRate, laneCount: LANES, now: time.now }) };
}

describe('LaneSlotFloor', () => {
  it('is shut outside invocations and in the slot an invocation began in, then opens on its lanes’ slots', () => {
    // Prepare: 1 call/s, so slot k starts at k seconds and belongs to lane k mod 20
    const { time, floor } = floorAt(1);
    const slot = Math.floor(T0 / 1000);
    const ownLane = (slot + 1) % LANES;

    // Act
    const outside = floor.tryAcquire();
    time.advance(10);
    const end = floor.begin([slot % LANES, ownLane]);
    const inBeganSlot = floor.tryAcquire();
    const wait = floor.nextStartInMs();
    time.advance(wait);
    const first = floor.tryAcquire();
    const again = floor.tryAcquire();
    time.advance(1000);
    const notItsLane = floor.tryAcquire();
    end();

    // Assess
    expect(outside).toBeUndefined();
    expect(inBeganSlot).toBeUndefined();
    expect(wait).toBe(990);
    expect(first).toBeDefined();
    expect(again).toBeUndefined();
    expect(notItsLane).toBeUndefined();
    expect(floor.nextStartInMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts the slots it may use within a time, and skips a slot after a rate-limit answer', () => {
    // Prepare: an invocation holding every even lane, at 2 calls/s (slots of 500 ms)
    const { time, floor } = floorAt(2);
    floor.begin(Array.from({ length: LANES / 2 }, (_, i) => 2 * i));
    time.advance(500);
    const slot = Math.floor(time.now() / 500);

    // Act
    const within = floor.startsWithin(1999);
    floor.penalize();
    const afterPenalty = floor.nextStartInMs();

    // Assess: the slot now is odd (T0 is on an even one); of it and the next three, the two even ones are
    // this copy's; the penalty gives up the next one, so the one after is 1.5 s away
    expect(slot % 2).toBe(1);
    expect(within).toBe(2);
    expect(afterPenalty).toBe(1500);
  });

  it('starts at most one call per slot and ceil(rate) + 1 in any second across a fleet, however many copies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0.5, 0.8, 1, 2, 2.5),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 11 }),
            fc.integer({ min: 1, max: 8 }),
            fc.integer({ min: 20, max: 300 }),
            fc.integer({ min: 0, max: 30 }),
          ),
          { minLength: 60, maxLength: 120 },
        ),
        (copies, rate, plan) => {
          // Prepare: copies on one clock; each invocation takes lanes no other holds (a FIFO group has one
          // consumer at a time), runs a while, and hands them back; every copy polls its floor every 10 ms.
          const time = fakeTime(T0 + 7);
          const floors = Array.from(
            { length: copies },
            () => new LaneSlotFloor({ floorRate: rate, laneCount: LANES, now: time.now }),
          );
          const holder = new Map<number, number>();
          const running: { copy: number; lanes: number[]; endsAt: number; end: () => void }[] = [];
          const starts: number[] = [];
          let next = 0;

          // Act
          for (let step = 0; step < 3000; step++) {
            for (const inv of running.filter((r) => r.endsAt <= time.now())) {
              inv.end();
              inv.lanes.forEach((lane) => holder.delete(lane));
              running.splice(running.indexOf(inv), 1);
            }
            const [copyPick, laneCount, steps, firstLane] = plan[next % plan.length] ?? [0, 1, 20, 0];
            const copy = copyPick % copies;
            const lanes = Array.from({ length: laneCount }, (_, i) => (firstLane + i * 3) % LANES).filter(
              (lane) => !holder.has(lane),
            );
            if (lanes.length > 0 && !running.some((r) => r.copy === copy)) {
              next++;
              lanes.forEach((lane) => holder.set(lane, copy));
              running.push({
                copy,
                lanes,
                endsAt: time.now() + steps * 10,
                end: (floors[copy] as LaneSlotFloor).begin(lanes),
              });
            }
            for (const { copy } of running)
              if ((floors[copy] as LaneSlotFloor).tryAcquire() !== undefined) starts.push(time.now());
            time.advance(10);
          }

          // Assess
          const slots = starts.map((t) => Math.floor((t * rate) / 1000));
          const slotMs = 1000 / rate;
          const open = slotMs > 1000 ? slotMs - 1000 : slotMs;
          expect(starts.every((t) => t % slotMs < open)).toBe(true);
          expect(new Set(slots).size).toBe(slots.length);
          expect(mostInWindow(starts)).toBeLessThanOrEqual(floorStartsInWorstSecond(rate));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives a fleet whose invocations hold every lane the floor’s full rate, not a copy’s share of it', () => {
    // Prepare: ten copies, each holding two lanes for 30 s
    const { time } = floorAt(1);
    const floors = Array.from(
      { length: 10 },
      () => new LaneSlotFloor({ floorRate: 1, laneCount: LANES, now: time.now }),
    );
    floors.forEach((floor, i) => floor.begin([2 * i, 2 * i + 1]));
    const starts: number[] = [];

    // Act
    for (let t = 0; t < 30_000; t += 10) {
      for (const floor of floors) if (floor.tryAcquire() !== undefined) starts.push(time.now());
      time.advance(10);
    }

    // Assess: one start in each second but the first (the invocations began in it)
    expect(starts.length).toBe(29);
    expect(mostInWindow(starts)).toBeLessThanOrEqual(2);
  });

  it('keeps a floor under 1 call/s to the open part of its slots, so floor calls are over a second apart', () => {
    // Prepare: 0.8 calls/s, slots of 1,250 ms open for their first 250 ms; one copy holding every lane
    const { time, floor } = floorAt(0.8);
    floor.begin(Array.from({ length: LANES }, (_, i) => i));
    const starts: number[] = [];

    // Act: 30 s, polled every 10 ms
    for (let t = 0; t < 30_000; t += 10) {
      if (floor.tryAcquire() !== undefined) starts.push(time.now());
      time.advance(10);
    }

    // Assess: every slot but the first (the invocation began in it), each in its open part, and a second apart
    expect(starts.length).toBe(23);
    expect(starts.every((t) => (t - T0) % 1250 < 250)).toBe(true);
    expect(Math.min(...starts.slice(1).map((t, i) => t - (starts[i] ?? 0)))).toBeGreaterThan(1000);
  });
});
