import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../lib/pacing/rate-limiter.ts';
import { fakeTime } from './fake-time.ts';

/** Most starts in any window of `windowMs` (inclusive start, exclusive end). */
function maxInAnyWindow(starts: readonly number[], windowMs: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi += 1) {
    while ((starts[hi] ?? 0) - (starts[lo] ?? 0) >= windowMs) lo += 1;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

async function startMany(limiter: RateLimiter, count: number, now: () => number): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(Array.from({ length: count }, () => limiter.acquire().then(() => starts.push(now()))));
  return starts;
}

describe('RateLimiter', () => {
  it('never starts more than the rate in any 1000 ms window over thousands of starts', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 100,
      safetyMarginMs: 0,
      smooth: false,
      now: time.now,
      sleep: time.sleep,
    });

    // Act
    const starts = await startMany(limiter, 5000, time.now);

    // Assess
    expect(starts).toHaveLength(5000);
    expect(maxInAnyWindow(starts, 1000)).toBe(100);
    // Not slower than needed: 50 windows of 100 starts take 49 windows.
    expect(starts.at(-1)).toBe(49 * 1000);
  });

  it('adds the safety margin to every window', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 10,
      safetyMarginMs: 5,
      smooth: false,
      now: time.now,
      sleep: time.sleep,
    });

    // Act
    const starts = await startMany(limiter, 30, time.now);

    // Assess
    expect(maxInAnyWindow(starts, 1005)).toBe(10);
    expect(starts[10]).toBe(1005);
    expect(starts[20]).toBe(2010);
  });

  it('keeps the window bound when starts are spread over time', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 100,
      safetyMarginMs: 0,
      smooth: false,
      now: time.now,
      sleep: time.sleep,
    });
    const starts: number[] = [];

    // Act: bursts of varying size separated by varying gaps
    for (let round = 0; round < 200; round += 1) {
      await Promise.all(
        Array.from({ length: (round * 37) % 61 }, () => limiter.acquire().then(() => starts.push(time.now()))),
      );
      time.advance((round * 53) % 170);
    }

    // Assess
    expect(starts.length).toBeGreaterThan(5000);
    expect(maxInAnyWindow(starts, 1000)).toBeLessThanOrEqual(100);
  });

  it('spreads starts evenly by default and loses no rate to late timers', async () => {
    // Prepare
    const time = fakeTime();
    const lateSleep = async (ms: number): Promise<void> => time.sleep(ms + 0.7); // every timer fires 0.7 ms late
    const limiter = new RateLimiter({ ratePerSecond: 100, safetyMarginMs: 20, now: time.now, sleep: lateSleep });

    // Act
    const starts = await startMany(limiter, 1000, time.now);

    // Assess
    const gaps = starts.slice(1, 100).map((t, i) => t - (starts[i] ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(9.29);
    expect(maxInAnyWindow(starts, 1020)).toBe(100);
    // 10 windows of 1020 ms, less the first window's margin, plus at most ~1 ms of lateness per window
    expect(starts.at(-1)).toBeLessThan(9 * 1020 + 990 + 10);
  });

  it('counts a start from when its request left, once the ticket reports it', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 2,
      safetyMarginMs: 0,
      smooth: false,
      now: time.now,
      sleep: time.sleep,
    });
    const first = await limiter.acquire();
    await limiter.acquire();
    time.advance(300); // the first request needed a slow connection setup
    first.sent();

    // Act
    time.advance(800);
    const starts = await startMany(limiter, 2, time.now);

    // Assess: the third may go one window after the second (t=1000), the fourth only after t=1300
    expect(starts).toEqual([1100, 1300]);
  });

  it('serves waiters first-in first-out', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({ ratePerSecond: 3, now: time.now, sleep: time.sleep });
    const order: number[] = [];

    // Act
    await Promise.all(Array.from({ length: 20 }, (_, i) => limiter.acquire().then(() => order.push(i))));

    // Assess
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('halves the rate on penalize (factor 0.5), counts a burst of penalties once, and recovers additively', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 100,
      recoveryPerWindow: 10,
      penaltyFactor: 0.5,
      now: time.now,
      sleep: time.sleep,
    });

    // Act
    limiter.penalize();
    limiter.penalize();
    const afterPenalty = limiter.effectiveRate;
    time.advance(1000);
    const afterOneWindow = limiter.effectiveRate;
    limiter.penalize();
    const afterSecondPenalty = limiter.effectiveRate;
    time.advance(10_000);
    const recovered = limiter.effectiveRate;

    // Assess
    expect(afterPenalty).toBe(50);
    expect(afterOneWindow).toBe(60);
    expect(afterSecondPenalty).toBe(30);
    expect(recovered).toBe(100);
  });

  it('lowers the pace by a fifth by default, compounding over repeated rate-limit answers', () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({ ratePerSecond: 50, recoveryPerWindow: 5, now: time.now, sleep: time.sleep });

    // Act
    limiter.penalize();
    const once = limiter.effectiveRate;
    time.advance(1000);
    limiter.penalize();
    const twice = limiter.effectiveRate;

    // Assess: 50 × 0.8 = 40; one window later 45, × 0.8 = 36.
    expect(once).toBe(40);
    expect(twice).toBe(36);
  });

  it('enforces the lowered rate after a penalty', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 100,
      safetyMarginMs: 0,
      smooth: false,
      recoveryPerWindow: 1,
      penaltyFactor: 0.5,
      now: time.now,
      sleep: time.sleep,
    });
    limiter.penalize();

    // Act
    const starts = await startMany(limiter, 200, time.now);

    // Assess: 50/s at first, never more than 52 once a couple of windows recovered
    expect(starts.filter((t) => t < 1000)).toHaveLength(50);
    expect(maxInAnyWindow(starts, 1000)).toBeLessThanOrEqual(53);
  });

  it('never goes below the minimum rate', () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 100,
      minRatePerSecond: 1,
      penaltyCooldownMs: 0,
      penaltyFactor: 0.5,
      now: time.now,
      sleep: time.sleep,
    });

    // Act
    for (let i = 0; i < 20; i += 1) limiter.penalize();

    // Assess
    expect(limiter.effectiveRate).toBe(1);
  });

  it('rejects invalid options', () => {
    // Prepare
    const bad = [{ ratePerSecond: 0 }, { ratePerSecond: Number.NaN }, { windowMs: -1 }, { safetyMarginMs: -1 }];

    // Act
    const errors = bad.map((options) => {
      try {
        new RateLimiter(options);
        return undefined;
      } catch (error) {
        return error;
      }
    });

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(RangeError);
  });

  it('paces a fractional share: 19.6 calls/s on average, never more than 20 in any window', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({ ratePerSecond: 19.6, safetyMarginMs: 20, now: time.now, sleep: time.sleep });

    // Act
    const starts = await startMany(limiter, 1960, time.now);

    // Assess
    const seconds = ((starts.at(-1) ?? 0) - (starts[0] ?? 0)) / 1000;
    expect(maxInAnyWindow(starts, 1000)).toBeLessThanOrEqual(20);
    expect(1959 / seconds).toBeGreaterThan(19.4);
    expect(1959 / seconds).toBeLessThanOrEqual(19.6);
  });

  it('catches up a short gap on its grid (never past the window), and restarts the grid after a long one', async () => {
    // Prepare: 10/s is a start every 100 ms.
    const time = fakeTime();
    const limiter = new RateLimiter({
      ratePerSecond: 10,
      safetyMarginMs: 0,
      catchUpMs: 250,
      now: time.now,
      sleep: time.sleep,
    });
    await startMany(limiter, 3, time.now);

    // Act: the last start was at 200 ms; 300 ms later the slots of 300 and 400 ms were missed. Then a second's gap.
    time.advance(300);
    const afterShortGap = await startMany(limiter, 4, time.now);
    time.advance(1000);
    const afterLongGap = await startMany(limiter, 3, time.now);

    // Assess: the missed slots start at once, then the grid goes on; a long gap gives no credit.
    const shortStart = afterShortGap[0] ?? 0;
    expect(afterShortGap.map((t) => t - shortStart)).toEqual([0, 0, 0, 100]);
    const longStart = afterLongGap[0] ?? 0;
    expect(afterLongGap.map((t) => t - longStart)).toEqual([0, 100, 200]);
    expect(maxInAnyWindow([...afterShortGap, ...afterLongGap], 1000)).toBeLessThanOrEqual(10);
  });

  it('estimates how many starts fit in a short wait, after those already waiting', async () => {
    // Prepare
    const time = fakeTime();
    const limiter = new RateLimiter({ ratePerSecond: 2, safetyMarginMs: 0, now: time.now, sleep: time.sleep });

    // Act
    const idle = limiter.startsWithin(1000);
    await limiter.acquire();
    const afterOne = limiter.startsWithin(1000);
    const none = limiter.startsWithin(100);

    // Assess: at 2/s, starts are 500 ms apart.
    expect(idle).toBe(3);
    expect(afterOne).toBe(2);
    expect(none).toBe(0);
  });

  it('lets a waiter give up after maxWaitMs without using a slot, so the next caller gets it', async () => {
    // Prepare: 1 call/s; the first start takes the current slot.
    const time = fakeTime();
    const limiter = new RateLimiter({ ratePerSecond: 1, safetyMarginMs: 0, now: time.now, sleep: time.sleep });
    await limiter.acquire();

    // Act: one caller may wait 200 ms only, the next as long as it takes.
    const impatient = limiter.acquire(200);
    const patient = limiter.acquire().then(() => time.now());
    const [gaveUp, patientStart] = await Promise.all([impatient, patient]);

    // Assess: the impatient caller got nothing, and the patient one the very next slot (1 s), not the one after.
    expect(gaveUp).toBeUndefined();
    expect(patientStart).toBe(1000);
  });
});
