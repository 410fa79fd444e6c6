import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import { applyEach } from './apply-each.ts';
import type { Command, CommandResult } from './types.ts';
import { accountEntryAt, fitsAttrBytes, isJsonObject, userAttrsOf } from './validation.ts';

interface ValidEntry {
  readonly account: string;
  readonly attrs: Readonly<Record<string, string>>;
}

/**
 * `im_set_attr` (doc 269/45938): `{"UserAttrs":[{"To_Account","Attrs":{name: value}}]}`.
 * Every user is validated before anything is applied: one bad user fails the whole call
 * (inferred from the all-or-nothing answer of doc 269/45938; docs/im-api.md). A missing or non-array `UserAttrs`
 * answers 90001, as a body that does not have the documented shape.
 */
export const setAttr: Command = (body, context): CommandResult => {
  const { store } = context;
  const read = userAttrsOf(body);
  if ('refusal' in read) return read.refusal;
  const userAttrs = read.entries;

  const valid: ValidEntry[] = [];
  for (const [index, raw] of userAttrs.entries()) {
    const at = accountEntryAt(raw, index);
    if ('refusal' in at) return at.refusal;
    const { entry, account } = at;
    const attrs = entry['Attrs'];
    if (!isJsonObject(attrs)) return fail(ImErrorCode.invalidParameter, `UserAttrs[${index}].Attrs must be an object`);
    for (const name of Object.keys(attrs)) {
      if (!store.isRegistered(name))
        return fail(ImErrorCode.invalidAttribute, `UserAttrs[${index}]: attribute name not registered`);
      // Inferred: a non-string or over-long value is an invalid attribute too (docs/im-api.md).
      if (!fitsAttrBytes(attrs[name]))
        return fail(ImErrorCode.invalidAttribute, `UserAttrs[${index}]: value must be a string of at most 50 bytes`);
    }
    valid.push({ account, attrs: attrs as Record<string, string> });
  }

  const { answer, applied } = applyEach(valid, context, ({ account, attrs }) => store.merge(account, attrs));
  return { ...answer, usersApplied: applied };
};
