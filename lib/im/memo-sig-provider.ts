/**
 * The fallback {@link UserSigProvider}: signs once per credentials and renews before expiry.
 * Not single-flight (signing is synchronous and cheap); production wires the `AdminSigCache`.
 */
import { signUserSig } from '../usersig/user-sig.ts';
import type { ImCredentials } from '../credentials/types.ts';
import type { UserSigProvider } from './types.ts';

/** Options of {@link MemoUserSigProvider}. */
export interface MemoUserSigProviderOptions {
  /** Lifetime of each UserSig in seconds. Default 2 days (doc 269/1664 recommends at least 24 h). */
  readonly expireSeconds?: number;
  /** Epoch seconds. Default `Date.now() / 1000`. */
  readonly nowSeconds?: () => number;
}

interface Memo {
  readonly sdkAppId: number;
  readonly identifier: string;
  readonly secretKey: string;
  readonly userSig: string;
  readonly renewAt: number;
}

/** Memoizes one UserSig per credentials; renews it once half its lifetime has passed. */
export class MemoUserSigProvider implements UserSigProvider {
  readonly #expireSeconds: number;
  readonly #nowSeconds: () => number;
  #memo: Memo | undefined;

  constructor(options: MemoUserSigProviderOptions = {}) {
    this.#expireSeconds = options.expireSeconds ?? 2 * 24 * 3600;
    this.#nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  getUserSig(creds: ImCredentials): Promise<string> {
    const now = this.#nowSeconds();
    const memo = this.#memo;
    if (memo !== undefined && memo.sdkAppId === creds.sdkAppId && memo.identifier === creds.identifier && memo.secretKey === creds.secretKey && now < memo.renewAt) {
      return Promise.resolve(memo.userSig);
    }
    const userSig = signUserSig(creds, this.#expireSeconds, now);
    // Renewing at half-life keeps a long-running process from ever sending an expired UserSig.
    this.#memo = { sdkAppId: creds.sdkAppId, identifier: creds.identifier, secretKey: creds.secretKey, userSig, renewAt: now + Math.floor(this.#expireSeconds / 2) };
    return Promise.resolve(userSig);
  }

  invalidate(): void {
    this.#memo = undefined;
  }
}
