import type { UserAttr, UserAttrRemoval, UserTagList } from '../rules/types.ts';

/** One IM call's worth of attribute work: set or remove attributes of at most 100 users. */
export type AttrCall =
  | { readonly kind: 'set'; readonly users: readonly UserAttr[] }
  | { readonly kind: 'remove'; readonly users: readonly UserAttrRemoval[] };

/** One IM call on users' tags (≤ 100 users; an add ≤ 10 tags a user): dispatch/tag-calls.ts plans them. */
export type TagCall =
  | { readonly kind: 'remove-all-tags'; readonly users: readonly { readonly To_Account: string }[] }
  | { readonly kind: 'remove-tags'; readonly users: readonly UserTagList[] }
  | { readonly kind: 'add-tags'; readonly users: readonly UserTagList[] };

/** One IM call's worth of work. */
export type WriteCall = AttrCall | TagCall;

/** Whether a call writes tags (its outcome concerns every record of the batch that touched those users' tags). */
export function isTagCall(call: WriteCall): call is TagCall {
  return call.kind === 'remove-all-tags' || call.kind === 'remove-tags' || call.kind === 'add-tags';
}

/** Users IM refused for good, with IM's reason. */
export interface RefusedGroup {
  readonly call: WriteCall;
  readonly errorCode: number;
  readonly errorInfo: string;
}

/** Users that may still succeed later (transient failure, rate limit, deadline, credentials being fixed). */
export interface RetryableGroup {
  readonly call: WriteCall;
  readonly errorCode: number;
  readonly errorInfo: string;
  /** False when no IM call was started for these users (e.g. the deadline came first). */
  readonly attempted: boolean;
  /** The writer found no time before the caller's deadline to start (another) attempt. */
  readonly deadlineReached?: boolean;
}

/** Where every user of a dispatch ended: each (user, kind) is in exactly one list. */
export interface DispatchResult {
  readonly applied: WriteCall[];
  readonly refused: RefusedGroup[];
  readonly retryable: RetryableGroup[];
}

/** The accounts of calls, once each: a user with values to set and names to remove is in two calls. */
export function accountsOf(groups: readonly { readonly call: WriteCall }[]): Set<string> {
  return new Set(groups.flatMap((g) => g.call.users.map((u) => u.To_Account)));
}

/** The accounts IM confirmed in every call they were in (none refused, none left to retry). */
export function appliedAccounts(result: DispatchResult): Set<string> {
  const unfinished = accountsOf([...result.refused, ...result.retryable]);
  return new Set([...accountsOf(result.applied.map((call) => ({ call })))].filter((a) => !unfinished.has(a)));
}
