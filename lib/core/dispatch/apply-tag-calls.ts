/**
 * Applies users' composed tag operations (dispatch/tag-calls.ts) phase by phase: every remove-all, then every
 * remove, then every add. A user whose call of an earlier phase did not complete is left out of the later phases:
 * applied after a failed remove-all, an add would leave IM with a set the operations in order never give. Left
 * out after a retryable failure, they are retryable too (nothing tried); after a refusal for good, they are refused
 * with the same code, so the user's dead letter carries all of its operations (process-lane-batch.ts).
 */
import type { Writer } from '../ports.ts';
import { applyCalls, type ApplyOptions } from './apply-calls.ts';
import type { TagCallPlan } from './tag-calls.ts';
import { accountsOf, type DispatchResult, type RefusedGroup } from './types.ts';
import { subCall } from './write-call.ts';

/**
 * A tag call IM refuses as a whole with one of these is split in halves to find the users it is about: 60003
 * (invalid parameter) is what an add that would take one user past IM's 100 tags is answered with (inferred,
 * docs/im-api.md); the gateway's own checks leave no other cause, so the other users of the call go on.
 */
const TAG_BISECT_CODES: ReadonlySet<number> = new Set([60003, 90033]);

export async function applyTagPlan(
  writer: Writer,
  plan: TagCallPlan,
  options: ApplyOptions = {},
): Promise<DispatchResult> {
  const result: DispatchResult = { applied: [], refused: [], retryable: [] };
  /** Accounts refused for good in an earlier phase, with the refusal. */
  const refusedBy = new Map<string, RefusedGroup>();
  /** Accounts whose earlier phase is left to retry. */
  const unfinished = new Set<string>();
  for (const phase of [plan.removeAll, plan.remove, plan.add]) {
    const calls = [];
    for (const call of phase) {
      for (const account of call.users.map((u) => u.To_Account)) {
        const only = subCall(call, (a) => a === account);
        const refusal = refusedBy.get(account);
        if (refusal !== undefined)
          result.refused.push({
            call: only,
            errorCode: refusal.errorCode,
            errorInfo: `not tried: an earlier tag call for this user was refused (${refusal.errorInfo})`,
          });
        else if (unfinished.has(account))
          result.retryable.push({
            call: only,
            errorCode: 0,
            errorInfo: 'not tried: an earlier tag call for this user did not complete',
            attempted: false,
          });
      }
      const kept = subCall(call, (a) => !refusedBy.has(a) && !unfinished.has(a));
      if (kept.users.length > 0) calls.push(kept);
    }
    if (calls.length === 0) continue;
    const outcome = await applyCalls(writer, calls, { bisectCodes: TAG_BISECT_CODES, ...options });
    result.applied.push(...outcome.applied);
    result.refused.push(...outcome.refused);
    result.retryable.push(...outcome.retryable);
    for (const group of outcome.refused) for (const account of accountsOf([group])) refusedBy.set(account, group);
    for (const account of accountsOf(outcome.retryable)) unfinished.add(account);
  }
  return result;
}
