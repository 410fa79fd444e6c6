/**
 * A fake clock shared by several pacers: `sleep` registers a timer and `runUntil` moves time from timer to
 * timer, letting every pending continuation run first. Unlike a sleep that advances time itself, concurrent
 * sleepers do not add up.
 */
export interface FakeScheduler {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Runs timers in time order until `ms` (absolute). */
  runUntil(ms: number): Promise<void>;
  /** Moves time on without running anything (a frozen process). */
  jump(ms: number): void;
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

export function fakeScheduler(start = 1_000_000): FakeScheduler {
  let t = start;
  let timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        timers.push({ at: t + Math.max(0, ms), resolve });
      }),
    async runUntil(ms) {
      for (;;) {
        await settle();
        if (timers.length === 0) break;
        const next = Math.min(...timers.map((x) => x.at));
        if (next > ms) break;
        t = Math.max(t, next);
        const due = timers.filter((x) => x.at <= t);
        timers = timers.filter((x) => x.at > t);
        for (const timer of due) timer.resolve();
      }
      t = Math.max(t, ms);
    },
    jump(ms) {
      t += ms;
    },
  };
}
