import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../../lib/pacing/retry-policy.ts';

describe('RetryPolicy', () => {
  it('draws full-jitter delays in [0, min(cap, base * 2^retry))', () => {
    // Prepare
    const draws = [0, 0.5, 0.999];
    const policies = draws.map((r) => new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => r }));

    // Act
    const delays = policies.map((policy) => [0, 1, 2, 3, 4, 10].map((retry) => policy.delayMs(retry)));

    // Assess
    expect(delays[0]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(delays[1]).toEqual([50, 100, 200, 400, 500, 500]);
    for (const [i, delay] of (delays[2] ?? []).entries())
      expect(delay).toBeLessThan([100, 200, 400, 800, 1000, 1000][i] ?? 0);
  });

  it('stops after maxAttempts attempts', () => {
    // Prepare
    const policy = new RetryPolicy({ maxAttempts: 4, random: () => 0.5 });

    // Act
    const decisions = [1, 2, 3, 4, 5].map((attempts) => policy.nextDelayMs(attempts, 0));

    // Assess
    expect(decisions.slice(0, 3).every((d) => typeof d === 'number')).toBe(true);
    expect(decisions.slice(3)).toEqual([undefined, undefined]);
  });

  it('stops when the next delay would pass the total time budget', () => {
    // Prepare
    const policy = new RetryPolicy({
      maxAttempts: 100,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      maxTotalMs: 5000,
      random: () => 0.9,
    });

    // Act
    const within = policy.nextDelayMs(2, 4000);
    const beyond = policy.nextDelayMs(2, 4200);

    // Assess
    expect(within).toBe(900);
    expect(beyond).toBeUndefined();
  });

  it('bounds a whole retry loop in attempts and total time under a fake sleep', async () => {
    // Prepare
    let clock = 0;
    const policy = new RetryPolicy({ random: () => 0.999_999, sleep: async (ms) => void (clock += ms) });
    let attempts = 0;

    // Act
    for (;;) {
      attempts += 1;
      const delay = policy.nextDelayMs(attempts, clock);
      if (delay === undefined) break;
      await policy.sleep(delay);
    }

    // Assess
    expect(attempts).toBe(6);
    expect(clock).toBeLessThanOrEqual(20_000);
    expect(clock).toBeGreaterThan(100 + 200 + 400 + 800 + 1600 - 1);
  });

  it('rejects invalid options', () => {
    // Prepare
    const make = [
      () => new RetryPolicy({ maxAttempts: 0 }),
      () => new RetryPolicy({ baseDelayMs: -1 }),
      () => new RetryPolicy({ maxTotalMs: Number.POSITIVE_INFINITY }),
    ];

    // Act
    const outcomes = make.map((fn) => {
      try {
        fn();
        return 'created';
      } catch (error) {
        return error instanceof RangeError ? 'range-error' : 'other';
      }
    });

    // Assess
    expect(outcomes).toEqual(['range-error', 'range-error', 'range-error']);
  });
});
