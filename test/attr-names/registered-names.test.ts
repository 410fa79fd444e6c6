import { describe, expect, it } from 'vitest';
import { FixedAttrNames, LearnedAttrNames } from '../../lib/attr-names/registered-names.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A fetch that answers from a script, one entry per call (an Error entry rejects), and counts its calls. */
function scriptedFetch(script: readonly (readonly string[] | Error)[]): {
  fetch: () => Promise<readonly string[]>;
  calls: () => number;
} {
  let calls = 0;
  return {
    fetch: async () => {
      const answer = script[Math.min(calls, script.length - 1)];
      calls++;
      await Promise.resolve();
      if (answer === undefined) throw new Error('empty script');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    calls: () => calls,
  };
}

describe('FixedAttrNames', () => {
  it('gives the configured names as a set', async () => {
    // Prepare
    const source = new FixedAttrNames(['sex', 'city', 'city']);

    // Act
    const names = await source.current();

    // Assess
    expect([...names].sort()).toEqual(['city', 'sex']);
  });

  it('gives the same set on every call', async () => {
    // Prepare
    const source = new FixedAttrNames(['tier']);

    // Act
    const [a, b] = await Promise.all([source.current(), source.current()]);

    // Assess
    expect(a).toBe(b);
    expect(a.has('tier')).toBe(true);
  });
});

describe('LearnedAttrNames', () => {
  it('learns the names from IM on first use', async () => {
    // Prepare
    const fetch = scriptedFetch([['sex', 'city']]);
    const source = new LearnedAttrNames({ fetch: fetch.fetch, now: manualClock().now });

    // Act
    const names = await source.current();

    // Assess
    expect(names).toEqual(new Set(['sex', 'city']));
    expect(fetch.calls()).toBe(1);
  });

  it('serves the cached names for the TTL, then asks IM again', async () => {
    // Prepare
    const clock = manualClock();
    const fetch = scriptedFetch([['sex'], ['sex', 'lang']]);
    const source = new LearnedAttrNames({ fetch: fetch.fetch, ttlSeconds: 60, now: clock.now });
    await source.current();

    // Act
    clock.advance(59_999);
    const cached = await source.current();
    const callsWithinTtl = fetch.calls();
    clock.advance(1);
    const relearned = await source.current();

    // Assess
    expect(cached).toEqual(new Set(['sex']));
    expect(callsWithinTtl).toBe(1);
    expect(relearned).toEqual(new Set(['sex', 'lang']));
    expect(fetch.calls()).toBe(2);
  });

  it('caches for 300 s by default', async () => {
    // Prepare
    const clock = manualClock();
    const fetch = scriptedFetch([['sex']]);
    const source = new LearnedAttrNames({ fetch: fetch.fetch, now: clock.now });
    await source.current();

    // Act
    clock.advance(299_999);
    await source.current();
    const callsBefore = fetch.calls();
    clock.advance(1);
    await source.current();

    // Assess
    expect(callsBefore).toBe(1);
    expect(fetch.calls()).toBe(2);
  });

  it('shares one fetch among concurrent callers', async () => {
    // Prepare
    let release: (names: readonly string[]) => void = () => undefined;
    let calls = 0;
    const source = new LearnedAttrNames({
      fetch: () => {
        calls++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
      now: manualClock().now,
    });

    // Act
    const pending = Array.from({ length: 50 }, () => source.current());
    release(['city']);
    const results = await Promise.all(pending);

    // Assess
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual(new Set(['city']));
  });

  it('on a fetch error returns the previous names and tells onError', async () => {
    // Prepare
    const clock = manualClock();
    const failure = new Error('IM timed out');
    const fetch = scriptedFetch([['sex', 'city'], failure]);
    const errors: unknown[] = [];
    const source = new LearnedAttrNames({
      fetch: fetch.fetch,
      ttlSeconds: 10,
      now: clock.now,
      onError: (e) => errors.push(e),
    });
    await source.current();
    clock.advance(10_000);

    // Act
    const names = await source.current();

    // Assess
    expect(names).toEqual(new Set(['sex', 'city']));
    expect(errors).toEqual([failure]);
    expect(fetch.calls()).toBe(2);
  });

  it('on a fetch error with no previous names returns undefined and tells onError', async () => {
    // Prepare
    const failure = new Error('IM unreachable');
    const fetch = scriptedFetch([failure]);
    const errors: unknown[] = [];
    const source = new LearnedAttrNames({ fetch: fetch.fetch, now: manualClock().now, onError: (e) => errors.push(e) });

    // Act
    const names = await source.current();

    // Assess
    expect(names).toBeUndefined();
    expect(errors).toEqual([failure]);
  });

  it('never rejects on a fetch error, even without onError', async () => {
    // Prepare
    const fetch = scriptedFetch([new Error('IM unreachable')]);
    const source = new LearnedAttrNames({ fetch: fetch.fetch, now: manualClock().now });

    // Act
    const outcome = source.current();

    // Assess
    await expect(outcome).resolves.toBeUndefined();
  });

  it('waits 30 s after a failure before asking IM again, then caches the answer', async () => {
    // Prepare
    const clock = manualClock();
    const fetch = scriptedFetch([new Error('IM unreachable'), ['tier']]);
    const source = new LearnedAttrNames({ fetch: fetch.fetch, now: clock.now, onError: () => undefined });
    await source.current();
    const duringPause = await source.current();
    clock.advance(30_000);

    // Act
    const learned = await source.current();
    const cached = await source.current();

    // Assess
    expect(duringPause).toBeUndefined();
    expect(learned).toEqual(new Set(['tier']));
    expect(cached).toBe(learned);
    expect(fetch.calls()).toBe(2);
  });

  it('says the names are known only while current() would answer without asking IM', async () => {
    // Prepare
    const clock = manualClock();
    const fetch = scriptedFetch([['sex'], new Error('IM unreachable')]);
    const source = new LearnedAttrNames({
      fetch: fetch.fetch,
      ttlSeconds: 60,
      now: clock.now,
      onError: () => undefined,
    });

    // Act
    const before = source.known();
    await source.current();
    const fresh = source.known();
    clock.advance(60_000);
    const expired = source.known();
    await source.current();
    const pausedAfterFailure = source.known();
    clock.advance(30_000);
    const pauseOver = source.known();

    // Assess
    expect([before, fresh, expired, pausedAfterFailure, pauseOver]).toEqual([false, true, false, true, false]);
    expect(new FixedAttrNames(['sex']).known()).toBe(true);
    expect(fetch.calls()).toBe(2);
  });

  it('keeps the time of the last success: a failure does not extend the stale list lifetime', async () => {
    // Prepare
    const clock = manualClock();
    const fetch = scriptedFetch([['sex'], new Error('down'), ['sex', 'lang']]);
    const source = new LearnedAttrNames({
      fetch: fetch.fetch,
      ttlSeconds: 10,
      now: clock.now,
      onError: () => undefined,
    });
    await source.current();
    clock.advance(10_000);
    await source.current(); // fails: stale list served
    clock.advance(30_000);

    // Act
    const next = await source.current();

    // Assess
    expect(next).toEqual(new Set(['sex', 'lang']));
    expect(fetch.calls()).toBe(3);
  });
});
