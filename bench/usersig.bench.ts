/**
 * UserSig throughput: sign/s and verify/s of ours, sign/s of Tencent's `tls-sig-api-v2` beside it (it has no verify).
 * Run: `npx node bench/usersig.bench.ts`. Each figure is measured for ~1 s after a warm-up.
 */
import { randomBytes } from 'node:crypto';
import { signUserSig, verifyUserSig } from '../lib/usersig/user-sig.ts';
import type { SigningKey } from '../lib/usersig/user-sig.ts';
import { officialSigner } from '../test/usersig/official-signer.ts';

/** Options of {@link opsPerSecond}. */
export interface MeasureOptions {
  /** Unmeasured run before timing, in milliseconds. Default 300. */
  readonly warmupMs?: number;
  /** Timed run, in milliseconds. Default 1000. */
  readonly measureMs?: number;
}

/** UserSig throughput figures, in operations per second. */
export interface UserSigBenchResult {
  readonly signOurs: number;
  readonly signOfficial: number;
  readonly verifyOurs: number;
}

// Checking the clock every call would weigh on a ~10 µs operation: run in batches.
const BATCH = 100;

/** Calls `fn` repeatedly for `measureMs` after `warmupMs` and returns calls per second. */
export function opsPerSecond(fn: () => unknown, options: MeasureOptions = {}): number {
  const { warmupMs = 300, measureMs = 1000 } = options;
  const run = (ms: number): { calls: number; elapsedMs: number } => {
    const start = performance.now();
    let calls = 0;
    let elapsedMs = 0;
    // The result is kept in a variable so the engine cannot drop the call as dead code.
    let sink: unknown;
    while (elapsedMs < ms) {
      for (let i = 0; i < BATCH; i++) sink = fn();
      calls += BATCH;
      elapsedMs = performance.now() - start;
    }
    if (sink === Symbol.for('never')) throw new Error('unreachable');
    return { calls, elapsedMs };
  };
  run(warmupMs);
  const { calls, elapsedMs } = run(measureMs);
  return (calls * 1000) / elapsedMs;
}

/** Measures ours and the official signer on the same key. */
export function runUserSigBench(options: MeasureOptions = {}): UserSigBenchResult {
  // A throwaway key of a console key's shape (64 hex characters): signing cost depends on its length only.
  const key: SigningKey = {
    sdkAppId: 1400000000,
    identifier: 'administrator',
    secretKey: randomBytes(32).toString('hex'),
  };
  const expire = 86_400;
  const official = officialSigner(key.sdkAppId, key.secretKey);
  const userSig = signUserSig(key, expire);
  const nowSeconds = Math.floor(Date.now() / 1000);
  if (!verifyUserSig(userSig, key, nowSeconds).ok) throw new Error('benchmark setup: our UserSig does not verify');

  return {
    signOurs: opsPerSecond(() => signUserSig(key, expire), options),
    signOfficial: opsPerSecond(() => official.genUserSig(key.identifier, expire), options),
    verifyOurs: opsPerSecond(() => verifyUserSig(userSig, key, nowSeconds), options),
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

if (import.meta.main) {
  const r = runUserSigBench();
  console.log(
    `usersig: sign ours ${fmt(r.signOurs)}/s, tls-sig-api-v2 ${fmt(r.signOfficial)}/s; verify ours ${fmt(r.verifyOurs)}/s`,
  );
}
