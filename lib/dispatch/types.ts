import type { UserAttr } from '../rules/types.ts';

/** The part of the IM client the dispatcher needs: one `im_set_attr` call of at most 100 users, paced and retried. */
export interface AttrSetter {
  setAttr(users: readonly UserAttr[], options?: { deadlineMs?: number }): Promise<{ readonly failedUsers: readonly { readonly To_Account: string; readonly errorCode: number }[] }>;
}

/** Users IM refused for good, with IM's reason. */
export interface RefusedGroup {
  readonly users: readonly UserAttr[];
  readonly errorCode: number;
  readonly errorInfo: string;
}

/** Users that may still succeed later (transient failure, rate limit, deadline, credentials being fixed). */
export interface RetryableGroup {
  readonly users: readonly UserAttr[];
  readonly errorCode: number;
  readonly errorInfo: string;
  /** False when no IM call was started for these users. */
  readonly attempted: boolean;
}

/** Where every user of a dispatch ended: each user is in exactly one list. */
export interface DispatchResult {
  readonly applied: UserAttr[];
  readonly refused: RefusedGroup[];
  readonly retryable: RetryableGroup[];
}
