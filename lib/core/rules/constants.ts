/**
 * Limits of `v4/all_member_push/im_set_attr` (Tencent doc 269/45938, 269/45935) and of IM accounts.
 * Every byte limit is counted in UTF-8 bytes, never in characters.
 */

/** At most this many users per `im_set_attr` call. */
export const MAX_USERS_PER_CALL = 100;

/** An app registers at most 10 attribute names, so a user carries at most 10. */
export const MAX_ATTR_NAMES = 10;

/** An attribute value is at most 50 bytes. */
export const MAX_VALUE_BYTES = 50;

/** An attribute name is at most 50 bytes (`im_set_attr_name`). */
export const MAX_ATTR_NAME_BYTES = 50;

/** An IM account (UserID) is at most 32 bytes. */
export const MAX_ACCOUNT_BYTES = 32;

/** A tag is at most 50 UTF-8 bytes (doc 269/45941). */
export const MAX_TAG_BYTES = 50;

/** The rule of an attribute name the app has not registered: the one refusal a fix in IM's console can undo. */
export const UNREGISTERED_NAME_RULE = 'attr-name-unregistered';

/** Whether two lists of registered names hold the same names (undefined: unknown). */
export function sameNames(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && [...a].every((name) => b.has(name));
}
