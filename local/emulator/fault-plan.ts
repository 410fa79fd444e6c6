import { ImErrorCode } from './error-codes.ts';
import { EmulatorOptionsError } from './errors.ts';
import { mulberry32 } from './prng.ts';
import type { FaultOptions } from './types.ts';

/** What to do with one call that passed authentication. */
export type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: 'code'; readonly code: number }
  | { readonly kind: 'http502' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'slow'; readonly delayMs: number };

const NONE: Fault = { kind: 'none' };
const DEFAULT_SLOW_MS = 6000;
const DEFAULT_SEED = 1;
// Latency draws come from their own stream so the fault sequence depends only on the seed and call order.
const LATENCY_STREAM_SALT = 0x9e3779b9;

type Probability = 'p91000' | 'p70169' | 'p60008' | 'pRateLimit' | 'pHttp502' | 'pReset' | 'pSlow';
const probabilityKeys: readonly Probability[] = [
  'p91000',
  'p70169',
  'p60008',
  'pRateLimit',
  'pHttp502',
  'pReset',
  'pSlow',
];

function validate(faults: FaultOptions): void {
  let total = 0;
  for (const key of probabilityKeys) {
    const p = faults[key] ?? 0;
    if (!Number.isFinite(p) || p < 0 || p > 1)
      throw new EmulatorOptionsError(`faults.${key}`, p, 'must be a number in [0, 1]');
    total += p;
  }
  if (total > 1 + 1e-9) throw new EmulatorOptionsError('faults', total, 'fault probabilities must add up to at most 1');
  const slowMs = faults.slowMs ?? DEFAULT_SLOW_MS;
  if (!Number.isFinite(slowMs) || slowMs < 0)
    throw new EmulatorOptionsError('faults.slowMs', slowMs, 'must be a non-negative number');
  const latency = faults.latencyMs;
  if (latency !== undefined && !(latency[0] >= 0 && latency[1] >= latency[0] && Number.isFinite(latency[1]))) {
    throw new EmulatorOptionsError('faults.latencyMs', latency, 'must be [min, max] with 0 <= min <= max');
  }
}

/**
 * Decides, reproducibly from a seed, which calls get a fault. Exactly one PRNG draw per call is
 * mapped onto consecutive probability bands (91000, 70169, 60008, rate limit, 502, reset, slow),
 * so the same seed and the same call order give the same fault sequence.
 */
export class FaultPlan {
  #faults: FaultOptions;
  #random: () => number;
  #latencyRandom: () => number;
  #anyFault: boolean;

  constructor(faults: FaultOptions = {}, seed: number = DEFAULT_SEED) {
    validate(faults);
    this.#faults = faults;
    this.#random = mulberry32(seed);
    this.#latencyRandom = mulberry32(seed ^ LATENCY_STREAM_SALT);
    this.#anyFault = probabilityKeys.some((k) => (faults[k] ?? 0) > 0);
  }

  /** Replaces the plan; the PRNG restarts only when a seed is given. */
  set(faults: FaultOptions, seed?: number): void {
    validate(faults);
    this.#faults = faults;
    this.#anyFault = probabilityKeys.some((k) => (faults[k] ?? 0) > 0);
    if (seed !== undefined) {
      this.#random = mulberry32(seed);
      this.#latencyRandom = mulberry32(seed ^ LATENCY_STREAM_SALT);
    }
  }

  /** One draw: the fault for the next authenticated call. */
  next(): Fault {
    const r = this.#random();
    if (!this.#anyFault) return NONE;
    const f = this.#faults;
    // Consecutive bands over [0, 1): the first band whose upper edge exceeds r wins.
    const bands: readonly (readonly [number | undefined, () => Fault])[] = [
      [f.p91000, () => ({ kind: 'code', code: ImErrorCode.internalError })],
      [f.p70169, () => ({ kind: 'code', code: ImErrorCode.internalTimeout })],
      [f.p60008, () => ({ kind: 'code', code: ImErrorCode.serviceTimeout })],
      [f.pRateLimit, () => ({ kind: 'code', code: ImErrorCode.restRateExceeded })],
      [f.pHttp502, () => ({ kind: 'http502' })],
      [f.pReset, () => ({ kind: 'reset' })],
      [f.pSlow, () => ({ kind: 'slow', delayMs: f.slowMs ?? DEFAULT_SLOW_MS })],
    ];
    let edge = 0;
    for (const [p, fault] of bands) {
      edge += p ?? 0;
      if (r < edge) return fault();
    }
    return NONE;
  }

  /** Extra latency for one answer, in ms (0 when no latency is configured). */
  latencyMs(): number {
    const range = this.#faults.latencyMs;
    if (range === undefined || range[1] <= 0) return 0;
    return range[0] + this.#latencyRandom() * (range[1] - range[0]);
  }
}
