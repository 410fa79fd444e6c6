import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import type { Command } from './types.ts';
import { isAccount, isJsonObject, MAX_USERS_PER_CALL } from './validation.ts';

/** `im_get_attr` (doc 269/45937): `{"To_Account":[...]}` → `UserAttrs:[{To_Account, Attrs}]`, `{}` for a user without attributes. */
export const getAttr: Command = (body, { store }) => {
  const accounts = isJsonObject(body) ? body['To_Account'] : undefined;
  if (!Array.isArray(accounts)) return fail(ImErrorCode.jsonParseFailed, 'To_Account must be an array');
  if (accounts.length > MAX_USERS_PER_CALL) {
    return fail(ImErrorCode.tooManyAccounts, `at most ${MAX_USERS_PER_CALL} users per call, got ${accounts.length}`);
  }
  const userAttrs: { To_Account: string; Attrs: Record<string, string> }[] = [];
  for (const [index, account] of accounts.entries()) {
    if (!isAccount(account)) return fail(ImErrorCode.invalidParameter, `To_Account[${index}] must be 1..32 bytes`);
    userAttrs.push({ To_Account: account, Attrs: { ...store.users.get(account) } });
  }
  return { code: ImErrorCode.ok, fields: { UserAttrs: userAttrs } };
};
