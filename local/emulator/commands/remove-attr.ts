import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import { applyEach } from './apply-each.ts';
import type { Command } from './types.ts';
import { accountEntryAt, userAttrsOf } from './validation.ts';

interface ValidEntry {
  readonly account: string;
  readonly names: readonly string[];
}

/**
 * `im_remove_attr` (doc 269/45939): `{"UserAttrs":[{"To_Account","Attrs":["sex"]}]}`.
 * All-or-nothing like im_set_attr: an unregistered name (90033) fails the whole call.
 */
export const removeAttr: Command = (body, context) => {
  const { store } = context;
  const read = userAttrsOf(body);
  if ('refusal' in read) return read.refusal;
  const userAttrs = read.entries;
  const valid: ValidEntry[] = [];
  for (const [index, raw] of userAttrs.entries()) {
    const at = accountEntryAt(raw, index);
    if ('refusal' in at) return at.refusal;
    const { entry, account } = at;
    const names: unknown = entry['Attrs'];
    if (!Array.isArray(names))
      return fail(ImErrorCode.invalidParameter, `UserAttrs[${index}].Attrs must be an array of names`);
    const checked: string[] = [];
    for (const name of names) {
      if (typeof name !== 'string' || !store.isRegistered(name)) {
        return fail(ImErrorCode.invalidAttribute, `UserAttrs[${index}]: attribute name not registered`);
      }
      checked.push(name);
    }
    valid.push({ account, names: checked });
  }
  return applyEach(valid, context, ({ account, names }) => store.remove(account, names)).answer;
};
