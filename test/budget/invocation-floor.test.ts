import { describe, expect, it } from 'vitest';
import { FLOOR_OPENS_AFTER_MS, InvocationFloor } from '../../lib/budget/invocation-floor.ts';
import { RateLimiter } from '../../lib/pacing/rate-limiter.ts';
import { fakeTime } from '../pacing/fake-time.ts';

function floorAt(rate: number) {
  const time = fakeTime(10_000);
  const floor = new InvocationFloor(new RateLimiter({ ratePerSecond: rate, now: time.now, sleep: time.sleep }), time.now);
  return { time, floor };
}

describe('InvocationFloor', () => {
  it('is shut outside lanes invocations and opens a second after one begins', () => {
    // Prepare
    const { time, floor } = floorAt(1);

    // Act
    const outside = floor.tryAcquire();
    floor.begin();
    const atOnce = floor.tryAcquire();
    const waitAtBegin = floor.nextStartInMs();
    time.advance(FLOOR_OPENS_AFTER_MS);
    const opened = floor.tryAcquire();
    floor.end();
    time.advance(5_000);
    const afterEnd = floor.tryAcquire();

    // Assess
    expect(outside).toBeUndefined();
    expect(atOnce).toBeUndefined();
    expect(waitAtBegin).toBe(FLOOR_OPENS_AFTER_MS);
    expect(opened).toBeDefined();
    expect(afterEnd).toBeUndefined();
    expect(floor.nextStartInMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('starts at most one floor call in any second along a chain of invocations handed from copy to copy', () => {
    // Prepare: invocations of one concurrency slot alternate between two copies, each taking every start it can
    const a = floorAt(1);
    const b = new InvocationFloor(new RateLimiter({ ratePerSecond: 1, now: a.time.now, sleep: a.time.sleep }), a.time.now);
    const copies = [a.floor, b];
    const starts: number[] = [];

    // Act: 40 invocations of 1.3 s each, back to back, polled every 10 ms
    for (let i = 0; i < 40; i++) {
      const copy = copies[i % 2] as InvocationFloor;
      copy.begin();
      for (let t = 0; t < 1300; t += 10) {
        if (copy.tryAcquire() !== undefined) starts.push(a.time.now());
        a.time.advance(10);
      }
      copy.end();
    }

    // Assess
    const inAnySecond = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 1000).length));
    expect(starts.length).toBeGreaterThan(0);
    expect(inAnySecond).toBe(1);
  });
});
