import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import type { CommandResult } from './types.ts';
import { MAX_ATTR_BYTES } from '../attr-store.ts';

/** At most 100 users per call, for every user-list command (docs 269/45937–45939; docs/im-api.md). */
export const MAX_USERS_PER_CALL = 100;
/** A UserID is at most 32 bytes (docs/im-api.md, "Accounts and bytes"). */
export const MAX_ACCOUNT_BYTES = 32;

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty account of at most 32 UTF-8 bytes. */
export function isAccount(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= MAX_ACCOUNT_BYTES;
}

/**
 * A string of at most 50 UTF-8 bytes.
 * Inferred: IM counts UTF-8 bytes (docs/im-api.md, "Accounts and bytes"): 16 CJK characters fit, 17 do not.
 */
export function fitsAttrBytes(value: unknown): value is string {
  return typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= MAX_ATTR_BYTES;
}

/**
 * The `UserAttrs` array of an `im_set_attr` / `im_remove_attr` body, or the answer refusing it: not an array
 * is 90001 (the body does not have the documented shape), more than 100 users is 90018.
 */
export function userAttrsOf(
  body: unknown,
  key: 'UserAttrs' | 'UserTags' = 'UserAttrs',
): { readonly entries: readonly unknown[] } | { readonly refusal: CommandResult } {
  const userAttrs = isJsonObject(body) ? body[key] : undefined;
  if (!Array.isArray(userAttrs)) return { refusal: fail(ImErrorCode.jsonParseFailed, `${key} must be an array`) };
  if (userAttrs.length > MAX_USERS_PER_CALL) {
    return {
      refusal: fail(
        ImErrorCode.tooManyAccounts,
        `at most ${MAX_USERS_PER_CALL} users per call, got ${userAttrs.length}`,
      ),
    };
  }
  return { entries: userAttrs };
}

/** Entry `index` of `UserAttrs` (or `UserTags`) with its account, or the answer refusing it (60003, invalid parameter). */
export function accountEntryAt(
  entry: unknown,
  index: number,
  key: 'UserAttrs' | 'UserTags' = 'UserAttrs',
): { readonly entry: JsonObject; readonly account: string } | { readonly refusal: CommandResult } {
  if (!isJsonObject(entry))
    return { refusal: fail(ImErrorCode.invalidParameter, `${key}[${index}] must be an object`) };
  const account = entry['To_Account'];
  if (!isAccount(account))
    return {
      refusal: fail(ImErrorCode.invalidParameter, `${key}[${index}].To_Account must be 1..${MAX_ACCOUNT_BYTES} bytes`),
    };
  return { entry, account };
}

/** The `To_Account` array of a body (`im_get_attr`, `im_get_tag`, `im_remove_all_tags`), or the answer refusing it. */
export function accountListOf(body: unknown): { readonly accounts: string[] } | { readonly refusal: CommandResult } {
  const accounts = isJsonObject(body) ? body['To_Account'] : undefined;
  if (!Array.isArray(accounts)) return { refusal: fail(ImErrorCode.jsonParseFailed, 'To_Account must be an array') };
  if (accounts.length > MAX_USERS_PER_CALL)
    return {
      refusal: fail(
        ImErrorCode.tooManyAccounts,
        `at most ${MAX_USERS_PER_CALL} users per call, got ${accounts.length}`,
      ),
    };
  for (const [index, account] of accounts.entries())
    if (!isAccount(account))
      return { refusal: fail(ImErrorCode.invalidParameter, `To_Account[${index}] must be 1..32 bytes`) };
  return { accounts: accounts as string[] };
}
