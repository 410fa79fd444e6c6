/** A fake monotonic clock whose sleep advances time instantly: pacing tests run in milliseconds. */
export interface FakeTime {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Moves time forward without sleeping. */
  advance(ms: number): void;
  /** Every duration slept, in order. */
  readonly slept: number[];
}

export function fakeTime(start = 0): FakeTime {
  let t = start;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      // Let every pending continuation observe the current time before it moves on.
      await new Promise((resolve) => setImmediate(resolve));
      t += Math.max(0, ms);
    },
    advance: (ms) => {
      t += ms;
    },
    slept,
  };
}
