/**
 * A cached admin UserSig for the IM REST API: signed once, renewed before it expires, re-signed on rotation.
 * Why: signing per request wastes CPU, and a cache without a renewal margin hands out UserSigs that expire
 * in flight (one official SDK shipped a UserSig that silently expired after a day).
 */
import { createHash } from 'node:crypto';
import type { ImCredentials } from '../credentials/types.ts';
import type { UserSigProvider } from './sig-provider.ts';
import { signUserSig } from './user-sig.ts';
import type { SigningKey } from './user-sig.ts';

/** Signs a UserSig valid for `expireSeconds` from `nowSeconds` (see {@link signUserSig}). */
export type UserSigSigner = (key: SigningKey, expireSeconds: number, nowSeconds: number) => string;

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

const DEFAULTS = {
  expireSeconds: 86_400,
  renewBeforeSeconds: 3_600,
  now: Date.now,
  sign: signUserSig,
} as const satisfies Required<AdminSigCacheOptions>;

interface CachedSig {
  readonly fingerprint: string;
  readonly userSig: string;
  /** Clock time (ms) from which the UserSig no longer has the renewal margin left. */
  readonly renewAtMs: number;
}

/**
 * Identifies credentials without keeping the secret key: a SHA-256 over the app, the account and the key.
 * JSON keeps the parts unambiguous (no `a|b` + `c` = `a` + `b|c` collisions).
 */
function fingerprintOf(creds: ImCredentials): string {
  return createHash('sha256')
    .update(JSON.stringify([creds.sdkAppId, creds.identifier, creds.secretKey]))
    .digest('base64');
}

/**
 * Caches the admin UserSig per credentials.
 * - Returns the cached UserSig while more than `renewBeforeSeconds` of it remains, else signs anew.
 * - Re-signs when the credentials change (sdkAppId, identifier or secret key: rotation).
 *
 * Signing is synchronous, so concurrent callers cannot interleave: the first one to find the cache empty
 * fills it before any other runs, and all share that one signing.
 */
export class AdminSigCache implements UserSigProvider {
  readonly #expireSeconds: number;
  readonly #renewBeforeMs: number;
  readonly #now: () => number;
  readonly #sign: UserSigSigner;
  #cached: CachedSig | undefined;

  /** @throws RangeError when the options are not integers with `0 ≤ renewBeforeSeconds < expireSeconds`. */
  constructor(options: AdminSigCacheOptions = {}) {
    const expireSeconds = options.expireSeconds ?? DEFAULTS.expireSeconds;
    const renewBeforeSeconds = options.renewBeforeSeconds ?? DEFAULTS.renewBeforeSeconds;
    if (!Number.isSafeInteger(expireSeconds) || expireSeconds <= 0) {
      throw new RangeError(`expireSeconds must be a positive integer, got ${expireSeconds}`);
    }
    if (!Number.isSafeInteger(renewBeforeSeconds) || renewBeforeSeconds < 0 || renewBeforeSeconds >= expireSeconds) {
      throw new RangeError(`renewBeforeSeconds must be an integer in [0, expireSeconds), got ${renewBeforeSeconds}`);
    }
    this.#expireSeconds = expireSeconds;
    this.#renewBeforeMs = renewBeforeSeconds * 1000;
    this.#now = options.now ?? DEFAULTS.now;
    this.#sign = options.sign ?? DEFAULTS.sign;
  }

  /** {@inheritDoc UserSigProvider.getUserSig} */
  getUserSig(creds: ImCredentials): string {
    const fingerprint = fingerprintOf(creds);
    const nowMs = this.#now();
    const cached = this.#cached;
    if (cached !== undefined && cached.fingerprint === fingerprint && nowMs < cached.renewAtMs) return cached.userSig;
    // Whole seconds, rounded down: the UserSig's own clock; its expiry is computed from this, not from nowMs.
    // As renewBeforeSeconds < expireSeconds, a fresh UserSig always has more than the margin left.
    const timeSeconds = Math.floor(nowMs / 1000);
    const key: SigningKey = { sdkAppId: creds.sdkAppId, identifier: creds.identifier, secretKey: creds.secretKey };
    const userSig = this.#sign(key, this.#expireSeconds, timeSeconds);
    this.#cached = {
      fingerprint,
      userSig,
      renewAtMs: (timeSeconds + this.#expireSeconds) * 1000 - this.#renewBeforeMs,
    };
    return userSig;
  }

  /** {@inheritDoc UserSigProvider.invalidate} */
  invalidate(): void {
    this.#cached = undefined;
  }
}
