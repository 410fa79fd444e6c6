import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../../lib/pacing/concurrency-limiter.ts';

describe('ConcurrencyLimiter', () => {
  it('never runs more than maxInFlight tasks at once and runs them all, in order', async () => {
    // Prepare
    const limiter = new ConcurrencyLimiter(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];

    // Act
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          started.push(i);
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
        }),
      ),
    );

    // Assess
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(limiter.active).toBe(0);
  });

  it('releases the slot when a task throws', async () => {
    // Prepare
    const limiter = new ConcurrencyLimiter(1);

    // Act
    const failed = limiter.run(() => Promise.reject(new Error('boom')));
    await expect(failed).rejects.toThrow('boom');
    const next = await limiter.run(() => Promise.resolve('next'));

    // Assess
    expect(next).toBe('next');
    expect(limiter.active).toBe(0);
  });
});
