/**
 * Public contract of the IM emulator: what tests and benchmarks configure and observe.
 */

/** Injected faults. Each probability is in [0, 1]; together they are drawn from one seeded PRNG draw per call. */
export interface FaultOptions {
  /** Answer ErrorCode 91000 (internal error, retry). */
  readonly p91000?: number;
  /** Answer ErrorCode 70169 (internal timeout). */
  readonly p70169?: number;
  /** Answer ErrorCode 60008 (service timeout). */
  readonly p60008?: number;
  /** Answer ErrorCode 60007 (REST call rate exceeded) although the real limit was not reached. */
  readonly pRateLimit?: number;
  /** Answer HTTP 502 with no IM body. */
  readonly pHttp502?: number;
  /** Destroy the socket without any answer. */
  readonly pReset?: number;
  /** Apply the call but answer only after `slowMs`. */
  readonly pSlow?: number;
  /** Delay of a slow answer; default 6000 ms, longer than a 5 s client timeout. */
  readonly slowMs?: number;
  /** Uniform extra latency [min, max] in ms added to every answer. */
  readonly latencyMs?: readonly [number, number];
}

/** How to start an emulator. Only the app identity is required. */
export interface EmulatorOptions {
  readonly sdkAppId: number;
  readonly adminIdentifier: string;
  readonly secretKey: string;
  /** Pre-registered attribute names, placed in slots "0".."9" in order (at most 10). */
  readonly attrNames?: readonly string[];
  /** Accepted calls per sliding 1 s window, per command. Default 100; 0 = unlimited. */
  readonly rateLimitPerSecond?: number;
  readonly faults?: FaultOptions;
  /** Seed of the fault PRNG, so a run's fault sequence is reproducible. Default 1. */
  readonly seed?: number;
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Signature-wrong failures within 60 s that lock the admin out (70050) for 60 s. Default 10; 0 = never. */
  readonly lockoutAfterSigFailures?: number;
  /** Accounts that are never applied: a successful answer lists them in ErrorList with ErrorCode 70107. */
  readonly partialFailureAccounts?: ReadonlySet<string>;
  /** Millisecond clock for UserSig expiry, rate windows and lockout. Default Date.now. */
  readonly now?: () => number;
}

/** What the emulator has seen since start (or the last `resetCounters()`). */
export interface EmulatorCounters {
  /** Every HTTP request received, whatever its path or outcome. */
  calls: number;
  /** Requests per known command name (e.g. `im_set_attr`). */
  callsByCommand: Map<string, number>;
  /** Answers with ErrorCode 0. */
  ok: number;
  /** Answers per non-zero ErrorCode, injected faults included. */
  rejectedByCode: Map<number, number>;
  http502: number;
  resets: number;
  slow: number;
  /** User entries applied by successful im_set_attr calls, and users changed by the tag write commands. */
  usersApplied: number;
  /** Highest number of im_set_attr (or of im_add_tag) calls accepted in any sliding 1 s window. */
  maxCallsInAnyWindow: number;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:PORT`; a client appends `/v4/all_member_push/<command>?...`. */
  readonly url: string;
  /** Every user's stored attributes. */
  readonly attrs: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Every user's tags. */
  readonly tags: ReadonlyMap<string, ReadonlySet<string>>;
  readonly counters: EmulatorCounters;
  /** Registered attribute names, in slot order. */
  attrNames(): string[];
  /** Replaces the fault plan; a given seed restarts the fault PRNG. */
  setFaults(faults: FaultOptions, seed?: number): void;
  /** Key rotation: afterwards only UserSigs signed with the new key verify. */
  setSecretKey(secretKey: string): void;
  resetCounters(): void;
  close(): Promise<void>;
}
