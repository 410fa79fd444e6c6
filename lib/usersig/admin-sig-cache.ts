/**
 * A cached admin UserSig for the IM REST API: signed once, renewed before it expires, re-signed on rotation.
 * Why: signing per request wastes CPU, and a cache without a renewal margin or without single-flight is racy
 * (../shared/docs/tencent-im-reference.md §5; one official SDK shipped a UserSig that silently expired after a day).
 */
import { createHash } from 'node:crypto';
import type { ImCredentials } from '../credentials/types.ts';
import { signUserSig } from './user-sig.ts';
import type { SigningKey } from './user-sig.ts';

/** Signs a UserSig valid for `expireSeconds` from `nowSeconds`; may be async (e.g. a KMS-backed signer). */
export type UserSigSigner = (key: SigningKey, expireSeconds: number, nowSeconds: number) => string | Promise<string>;

/** Options of {@link AdminSigCache}. */
export interface AdminSigCacheOptions {
  /** Lifetime of each UserSig, in seconds. Default 86400: doc 269/1664 advises at least 24 h. */
  readonly expireSeconds?: number;
  /** Renew when less than this remains, in seconds; must be below `expireSeconds`. Default 3600. */
  readonly renewBeforeSeconds?: number;
  /** Clock in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** The signer. Default {@link signUserSig}. */
  readonly sign?: UserSigSigner;
}

/** The defaults of {@link AdminSigCacheOptions}. */
export const adminSigCacheDefaults = {
  expireSeconds: 86_400,
  renewBeforeSeconds: 3_600,
  now: Date.now,
  sign: signUserSig,
} as const satisfies Required<AdminSigCacheOptions>;

/** What callers of the IM client depend on: an admin UserSig for these credentials, and a way to drop it. */
export interface AdminSigProvider {
  /** A UserSig for `creds` with at least the renewal margin left. */
  getUserSig(creds: ImCredentials): Promise<string>;
  /** Forgets the cached UserSig, e.g. after IM answered 70001 (expired) or 70052 (invalidated). */
  invalidate(): void;
}

/** Thrown when a signer took so long that its fresh UserSig was already inside the renewal margin. */
export class AdminSigTooSlowError extends Error {
  override readonly name = 'AdminSigTooSlowError';
  /** How long signing took, in milliseconds. */
  readonly signingMs: number;
  constructor(signingMs: number) {
    super(`signing the admin UserSig took ${signingMs} ms, longer than its lifetime minus the renewal margin`);
    this.signingMs = signingMs;
  }
}

interface CachedSig {
  readonly fingerprint: string;
  readonly userSig: string;
  /** Clock time (ms) from which the UserSig no longer has the renewal margin left. */
  readonly renewAtMs: number;
}

interface Flight {
  readonly fingerprint: string;
  readonly promise: Promise<CachedSig>;
}

/**
 * Identifies credentials without keeping the secret key: a SHA-256 over the app, the account and the key.
 * JSON keeps the parts unambiguous (no `a|b` + `c` = `a` + `b|c` collisions).
 */
function fingerprintOf(creds: ImCredentials): string {
  return createHash('sha256').update(JSON.stringify([creds.sdkAppId, creds.identifier, creds.secretKey])).digest('base64');
}

/**
 * Caches the admin UserSig per credentials.
 * - Returns the cached UserSig while more than `renewBeforeSeconds` of it remains, else signs anew.
 * - Re-signs when the credentials change (sdkAppId, identifier or secret key: rotation).
 * - Single-flight: concurrent callers share one signing, even when the signer is async.
 */
export class AdminSigCache implements AdminSigProvider {
  readonly #expireSeconds: number;
  readonly #renewBeforeMs: number;
  readonly #now: () => number;
  readonly #sign: UserSigSigner;
  #cached: CachedSig | undefined;
  #flight: Flight | undefined;

  /** @throws RangeError when the options are not integers with `0 ≤ renewBeforeSeconds < expireSeconds`. */
  constructor(options: AdminSigCacheOptions = {}) {
    const expireSeconds = options.expireSeconds ?? adminSigCacheDefaults.expireSeconds;
    const renewBeforeSeconds = options.renewBeforeSeconds ?? adminSigCacheDefaults.renewBeforeSeconds;
    if (!Number.isSafeInteger(expireSeconds) || expireSeconds <= 0) {
      throw new RangeError(`expireSeconds must be a positive integer, got ${expireSeconds}`);
    }
    if (!Number.isSafeInteger(renewBeforeSeconds) || renewBeforeSeconds < 0 || renewBeforeSeconds >= expireSeconds) {
      throw new RangeError(`renewBeforeSeconds must be an integer in [0, expireSeconds), got ${renewBeforeSeconds}`);
    }
    this.#expireSeconds = expireSeconds;
    this.#renewBeforeMs = renewBeforeSeconds * 1000;
    this.#now = options.now ?? adminSigCacheDefaults.now;
    this.#sign = options.sign ?? adminSigCacheDefaults.sign;
  }

  /** {@inheritDoc AdminSigProvider.getUserSig} */
  async getUserSig(creds: ImCredentials): Promise<string> {
    const fingerprint = fingerprintOf(creds);
    const cached = this.#cached;
    if (cached !== undefined && cached.fingerprint === fingerprint && this.#now() < cached.renewAtMs) return cached.userSig;
    const flight = this.#flight?.fingerprint === fingerprint ? this.#flight : this.#startFlight(creds, fingerprint);
    return (await flight.promise).userSig;
  }

  /** {@inheritDoc AdminSigProvider.invalidate} */
  invalidate(): void {
    this.#cached = undefined;
    // A signing in progress may have started before the reason to invalidate: do not let it refill the cache.
    this.#flight = undefined;
  }

  #startFlight(creds: ImCredentials, fingerprint: string): Flight {
    const flight: Flight = { fingerprint, promise: this.#signFresh(creds, fingerprint) };
    this.#flight = flight;
    const land = (): void => {
      // Only the latest flight may land: an older one (rotated creds, invalidate) must not overwrite it.
      if (this.#flight === flight) this.#flight = undefined;
    };
    flight.promise.then(
      (entry) => {
        if (this.#flight === flight) this.#cached = entry;
        land();
      },
      land,
    );
    return flight;
  }

  async #signFresh(creds: ImCredentials, fingerprint: string): Promise<CachedSig> {
    const startMs = this.#now();
    // Whole seconds, rounded down: the UserSig's own clock; its expiry is computed from this, not from startMs.
    const timeSeconds = Math.floor(startMs / 1000);
    const key: SigningKey = { sdkAppId: creds.sdkAppId, identifier: creds.identifier, secretKey: creds.secretKey };
    const userSig = await this.#sign(key, this.#expireSeconds, timeSeconds);
    const renewAtMs = (timeSeconds + this.#expireSeconds) * 1000 - this.#renewBeforeMs;
    const endMs = this.#now();
    if (endMs >= renewAtMs) throw new AdminSigTooSlowError(endMs - startMs);
    return { fingerprint, userSig, renewAtMs };
  }
}
