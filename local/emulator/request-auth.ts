import { verifyUserSig } from '../../lib/usersig/user-sig.ts';
import type { SigningKey, UserSigFields, VerifyFailure } from '../../lib/usersig/user-sig.ts';
import { ImErrorCode } from './error-codes.ts';
import { SignatureLockout } from './signature-lockout.ts';

/** Outcome of the query-string checks: 0 when the call may proceed, else the IM ErrorCode to answer. */
export type AuthOutcome = number;

const MAX_UINT32 = 4294967295;
const DIGITS = /^\d{1,10}$/;
// A successful verification is cached per UserSig string: clients reuse one cached UserSig for
// hours, so re-inflating and re-hashing it on every call would be the emulator's main CPU cost.
const MAX_CACHED_SIGS = 256;

const failureCode: Readonly<Record<VerifyFailure, number>> = {
  malformed: ImErrorCode.userSigMalformed,
  'wrong-sdkappid': ImErrorCode.userSigWrongSdkAppId,
  'wrong-identifier': ImErrorCode.userSigWrongIdentifier,
  expired: ImErrorCode.userSigExpired,
  'bad-signature': ImErrorCode.userSigBadSignature,
};

/**
 * The common REST checks of every IM call (doc 269/1519; docs/im-api.md), in this order:
 * contenttype/random (60002) → sdkappid (70016) → admin identifier (90009) → lockout (70050) → UserSig.
 * Signature-wrong UserSig failures (not expiry) feed the 70050 lockout, as real IM does.
 */
export class RequestAuth {
  readonly #sdkAppIdText: string;
  readonly #identifier: string;
  #key: SigningKey;
  readonly #lockout: SignatureLockout;
  readonly #verified = new Map<string, UserSigFields>();

  constructor(key: SigningKey, lockoutAfterSigFailures: number) {
    this.#key = key;
    this.#sdkAppIdText = String(key.sdkAppId);
    this.#identifier = key.identifier;
    this.#lockout = new SignatureLockout({ threshold: lockoutAfterSigFailures });
  }

  /** Key rotation: previously verified UserSigs must verify again against the new key. */
  setSecretKey(secretKey: string): void {
    this.#key = { ...this.#key, secretKey };
    this.#verified.clear();
  }

  check(query: URLSearchParams, nowMs: number): AuthOutcome {
    const random = query.get('random');
    if (query.get('contenttype') !== 'json' || random === null || !DIGITS.test(random) || Number(random) > MAX_UINT32) {
      return ImErrorCode.httpParseError;
    }
    if (query.get('sdkappid') !== this.#sdkAppIdText) return ImErrorCode.sdkAppIdMismatch;
    if (query.get('identifier') !== this.#identifier) return ImErrorCode.adminRequired;
    if (this.#lockout.isLocked(nowMs)) return ImErrorCode.signatureLockout;
    return this.#checkUserSig(query.get('usersig') ?? '', nowMs);
  }

  #checkUserSig(userSig: string, nowMs: number): AuthOutcome {
    const nowSeconds = Math.floor(nowMs / 1000);
    const cached = this.#verified.get(userSig);
    if (cached !== undefined) {
      return nowSeconds > cached.time + cached.expire ? ImErrorCode.userSigExpired : ImErrorCode.ok;
    }
    const result = verifyUserSig(userSig, this.#key, nowSeconds);
    if (result.ok) {
      if (this.#verified.size >= MAX_CACHED_SIGS) this.#verified.clear();
      this.#verified.set(userSig, result.fields);
      return ImErrorCode.ok;
    }
    if (result.reason !== 'expired') this.#lockout.recordFailure(nowMs);
    return failureCode[result.reason];
  }
}
