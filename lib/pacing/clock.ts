/** Time sources shared by the pacing primitives, injectable so tests can run on a fake clock. */
import { setTimeout as delay } from 'node:timers/promises';

/** Returns the current time in milliseconds. */
export type Clock = () => number;

/** Waits the given number of milliseconds. */
export type Sleep = (ms: number) => Promise<void>;

/** Monotonic milliseconds: immune to wall-clock jumps, which matters for a sliding window. */
export const monotonicClock: Clock = () => performance.now();

/** A real timer-based sleep; non-positive durations resolve on the next macrotask. */
export const realSleep: Sleep = async (ms) => {
  await delay(Math.max(0, ms));
};
