import { describe, expect, it } from 'vitest';
import { FaultPlan } from '../../local/emulator/fault-plan.ts';
import { mulberry32 } from '../../local/emulator/prng.ts';
import { SignatureLockout } from '../../local/emulator/signature-lockout.ts';
import { SlidingWindow } from '../../local/emulator/sliding-window.ts';
import { startTestEmulator } from './helpers.ts';

describe('SlidingWindow', () => {
  it('counts only events younger than the window', () => {
    // Prepare
    const window = new SlidingWindow(1000);
    for (const t of [0, 200, 400, 999]) window.add(t);

    // Act
    const counts = [window.count(999), window.count(1000), window.count(1200), window.count(1999), window.count(5000)];

    // Assess
    expect(counts).toEqual([4, 3, 2, 0, 0]);
  });

  it('tryAdd refuses once the limit is reached and treats limit 0 as unlimited', () => {
    // Prepare
    const limited = new SlidingWindow(1000);
    const unlimited = new SlidingWindow(1000);

    // Act
    const limitedResults = [0, 1, 2].map((t) => limited.tryAdd(t, 2));
    const unlimitedResults = [0, 1, 2].map((t) => unlimited.tryAdd(t, 0));

    // Assess
    expect(limitedResults).toEqual([1, 2, undefined]);
    expect(unlimitedResults).toEqual([1, 2, 3]);
  });

  it('stays correct across many events (compaction of the expired prefix)', () => {
    // Prepare
    const window = new SlidingWindow(1000);

    // Act
    let last = 0;
    for (let t = 0; t < 100_000; t++) last = window.add(t / 10);

    // Assess
    expect(last).toBe(10_000);
    expect(window.count(99_999 / 10 + 1000)).toBe(0);
  });
});

describe('SignatureLockout', () => {
  it('locks after the threshold and never when the threshold is 0', () => {
    // Prepare
    const lockout = new SignatureLockout({ threshold: 2 });
    const disabled = new SignatureLockout({ threshold: 0 });

    // Act
    lockout.recordFailure(0);
    const afterOne = lockout.isLocked(0);
    lockout.recordFailure(10);
    for (let i = 0; i < 100; i++) disabled.recordFailure(i);

    // Assess
    expect(afterOne).toBe(false);
    expect([lockout.isLocked(10), lockout.isLocked(60_009), lockout.isLocked(60_010)]).toEqual([true, true, false]);
    expect(disabled.isLocked(100)).toBe(false);
  });
});

describe('mulberry32 and FaultPlan', () => {
  it('mulberry32 is reproducible and spread over [0, 1)', () => {
    // Prepare
    const a = mulberry32(123);
    const b = mulberry32(123);

    // Act
    const xs = Array.from({ length: 10_000 }, () => a());
    const ys = Array.from({ length: 10_000 }, () => b());

    // Assess
    expect(ys).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it('draws each fault kind close to its probability', () => {
    // Prepare
    const plan = new FaultPlan({ p91000: 0.1, pHttp502: 0.2, pSlow: 0.3, slowMs: 5 }, 99);
    const seen = new Map<string, number>();

    // Act
    for (let i = 0; i < 20_000; i++) {
      const fault = plan.next();
      const key = fault.kind === 'code' ? `code ${fault.code}` : fault.kind;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }

    // Assess
    const share = (key: string): number => (seen.get(key) ?? 0) / 20_000;
    expect(share('code 91000')).toBeCloseTo(0.1, 1);
    expect(share('http502')).toBeCloseTo(0.2, 1);
    expect(share('slow')).toBeCloseTo(0.3, 1);
    expect(share('none')).toBeCloseTo(0.4, 1);
  });

  it('latency stays within its range', () => {
    // Prepare
    const plan = new FaultPlan({ latencyMs: [5, 9] }, 1);

    // Act
    const draws = Array.from({ length: 1000 }, () => plan.latencyMs());

    // Assess
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...draws)).toBeLessThanOrEqual(9);
  });
});

describe('startEmulator options', () => {
  it.each([
    ['sdkAppId', { sdkAppId: 0 }],
    ['attrNames', { attrNames: Array.from({ length: 11 }, (_, i) => `n${i}`) }],
    ['rateLimitPerSecond', { rateLimitPerSecond: -1 }],
    ['secretKey', { secretKey: '' }],
  ] as const)('rejects an invalid %s with EmulatorOptionsError', async (option, overrides) => {
    // Act
    const start = startTestEmulator(overrides);

    // Assess
    await expect(start).rejects.toMatchObject({ name: 'EmulatorOptionsError', option });
  });

  it('never puts the secret key in an error', async () => {
    // Act
    const error: unknown = await startTestEmulator({ sdkAppId: -1, secretKey: 'super-secret-value' }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(
      'super-secret-value',
    );
  });
});
