import { SlidingWindow } from './sliding-window.ts';

/** Options of {@link SignatureLockout}. */
export interface SignatureLockoutOptions {
  /** Failures within `windowMs` that trigger the lockout; 0 disables it. */
  readonly threshold: number;
  readonly windowMs?: number;
  readonly lockMs?: number;
}

const defaults = { windowMs: 60_000, lockMs: 60_000 } as const;

/**
 * Real IM locks an admin out for one minute (70050) after repeated signature-wrong failures
 * (doc 269/1671; docs/im-api.md): this models it, so a client that hammers with a bad key is caught in tests.
 */
export class SignatureLockout {
  readonly #threshold: number;
  readonly #lockMs: number;
  readonly #failures: SlidingWindow;
  #lockedUntil = -Infinity;

  constructor(options: SignatureLockoutOptions) {
    this.#threshold = options.threshold;
    this.#lockMs = options.lockMs ?? defaults.lockMs;
    this.#failures = new SlidingWindow(options.windowMs ?? defaults.windowMs);
  }

  isLocked(nowMs: number): boolean {
    return nowMs < this.#lockedUntil;
  }

  /** Records one signature-wrong failure; starts the lockout when the threshold is reached. */
  recordFailure(nowMs: number): void {
    if (this.#threshold <= 0) return;
    if (this.#failures.add(nowMs) >= this.#threshold) {
      this.#lockedUntil = nowMs + this.#lockMs;
      this.#failures.clear();
    }
  }
}
