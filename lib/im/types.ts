/** Shared types of the IM REST client. */
import type { ImCredentials } from '../credentials/types.ts';

/** What to do about an answer: the retry classes of reference §4. */
export type ErrorClass = 'ok' | 'rate-limited' | 'transient' | 'signature-stale' | 'signature-wrong' | 'permanent';

/**
 * Supplies the admin UserSig for a set of credentials. Implemented by the single-flight
 * `AdminSigCache` (lib/usersig/admin-sig-cache.ts); the client falls back to a simple memo.
 */
export interface UserSigProvider {
  /** A UserSig for `creds.identifier`, valid for a while yet. */
  getUserSig(creds: ImCredentials): Promise<string>;
  /** Forgets any cached UserSig (after 70001/70052 or a key rotation). */
  invalidate(): void;
}

/** One per-user failure in a partial-success answer (`ErrorList`, doc 269/100638). */
export interface ImUserError {
  readonly To_Account: string;
  readonly ErrorCode: number;
}

/** The body of every IM REST answer; commands add their own fields. */
export interface ImResponseBody {
  readonly ActionStatus: string;
  readonly ErrorCode: number;
  readonly ErrorInfo: string;
  readonly ErrorList?: readonly ImUserError[];
  readonly [field: string]: unknown;
}

/** Reported after every attempt, for metrics and logs (never carries secrets). */
export interface AttemptEvent {
  /** `service/command`, e.g. `all_member_push/im_set_attr`. */
  readonly command: string;
  /** The body's ErrorCode, or a transport pseudo-code (see `TRANSPORT_ERROR_CODES`). */
  readonly errorCode: number;
  readonly errorClass: ErrorClass;
  readonly latencyMs: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
}
