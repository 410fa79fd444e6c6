import type { ImCredentials } from '../credentials/types.ts';

/**
 * Supplies the admin UserSig for a set of credentials; implemented by `AdminSigCache`
 * (admin-sig-cache.ts). Synchronous: signing is a local HMAC, nothing to wait for.
 */
export interface UserSigProvider {
  /** A UserSig for `creds.identifier`, with a renewal margin of its lifetime still left. */
  getUserSig(creds: ImCredentials): string;
  /** Forgets any cached UserSig, e.g. after IM answered 70001 (expired) or 70052 (invalidated), or a key rotation. */
  invalidate(): void;
}
