import { AccountMerger } from './account-merger.ts';
import { checkUser, type UserFault } from './check-user.ts';
import { formatFieldPath, type PathSegment } from './field-path.ts';
import { ruleMessage } from './rule-messages.ts';
import { parseUserAttrsEnvelope } from './schemas.ts';
import type { Rejection, UserRule, ValidateUsersOptions, ValidationResult } from './types.ts';

/** Where a user's fault is, under `prefix` (e.g. `['UserAttrs', 3]`), its rule, and the sentence naming both. */
export function describeFault(
  prefix: readonly PathSegment[],
  fault: UserFault,
): { readonly path: string; readonly rule: UserRule; readonly message: string } {
  const path = formatFieldPath([...prefix, ...fault.path]);
  return { path, rule: fault.rule, message: ruleMessage(path, fault.rule, fault.detail) };
}

function toRejection(index: number, fault: UserFault): Rejection {
  return { To_Account: fault.account, index, ...describeFault(['UserAttrs', index], fault) };
}

/**
 * Applies the request rules to an `im_set_attr` body, user by user: each refused entry becomes a
 * `Rejection` (its first fault) while the valid users of the same request go on.
 *
 * - Per user: `To_Account` a non-empty string of at most 32 UTF-8 bytes; `Attrs` a non-empty plain
 *   object of at most 10 names; names non-empty, at most 50 bytes and, when `allowedNames` is given,
 *   registered; values strings of at most 50 bytes.
 * - Duplicates: the same `To_Account` twice is merged into one user; later attributes win per name
 *   (`{a:"1",b:"1"}` then `{b:"2"}` gives `{a:"1",b:"2"}`). An entry that would take the merged user
 *   past 10 names is rejected (`attrs-max-10-names`) and the account keeps the earlier attributes.
 * - Order: users come out in the order their account was first seen.
 * - Output objects are built fresh (`Object.fromEntries`): keys such as `__proto__` are ordinary own
 *   attribute names and never reach any prototype.
 *
 * @param body - The parsed JSON body.
 * @param options - `allowedNames`: the app's registered attribute names (default: no allow-list).
 * @returns The users to send, the rejections, and `received`: the length of `UserAttrs`.
 * @throws RequestShapeError when the body is not an object or has no `UserAttrs` array.
 */
export function validateUsers(body: unknown, options: ValidateUsersOptions = {}): ValidationResult {
  const entries = parseUserAttrsEnvelope(body).UserAttrs;
  return { ...validateEntries(entries, entries.keys(), options), received: entries.length };
}

/**
 * The same rules for some entries of a `UserAttrs` array, by index (ascending). Every entry of one account
 * must be among them: duplicates merge only within one call.
 */
export function validateEntries(
  entries: readonly unknown[],
  indexes: Iterable<number>,
  options: ValidateUsersOptions = {},
): Omit<ValidationResult, 'received'> {
  const { allowedNames = undefined } = options;
  const merger = new AccountMerger();
  const rejected: Rejection[] = [];
  for (const index of indexes) {
    const check = checkUser(entries[index], allowedNames);
    const fault = check.ok ? merger.add(check.user) : check.fault;
    if (fault !== undefined) rejected.push(toRejection(index, fault));
  }
  return { users: merger.users(), rejected };
}
