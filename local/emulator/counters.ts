import type { EmulatorCounters } from './types.ts';

export function createCounters(): EmulatorCounters {
  return {
    calls: 0,
    callsByCommand: new Map(),
    ok: 0,
    rejectedByCode: new Map(),
    http502: 0,
    resets: 0,
    slow: 0,
    usersApplied: 0,
    maxCallsInAnyWindow: 0,
  };
}

/** Zeroes the counters in place, so references held by callers stay live. */
export function resetCounters(counters: EmulatorCounters): void {
  counters.calls = 0;
  counters.callsByCommand.clear();
  counters.ok = 0;
  counters.rejectedByCode.clear();
  counters.http502 = 0;
  counters.resets = 0;
  counters.slow = 0;
  counters.usersApplied = 0;
  counters.maxCallsInAnyWindow = 0;
}

export function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Counts one IM answer: `ok` for 0, else per code. */
export function countAnswer(counters: EmulatorCounters, code: number): void {
  if (code === 0) counters.ok++;
  else increment(counters.rejectedByCode, code);
}
