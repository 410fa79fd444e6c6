import { ATTR_SLOT_COUNT, MAX_ATTR_BYTES } from '../attr-store.ts';
import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import type { Command } from './types.ts';
import { fitsAttrBytes, isJsonObject } from './validation.ts';

const SLOT_KEY = /^\d$/;

/**
 * `im_set_attr_name` (doc 269/45935): `{"AttrNames":{"0":"sex","1":"city"}}`, slots "0".."9".
 * Slots not named in the call keep their name (merge): whether real IM merges or replaces is undocumented.
 */
export const setAttrName: Command = (body, { store }) => {
  const attrNames = isJsonObject(body) ? body['AttrNames'] : undefined;
  if (!isJsonObject(attrNames)) return fail(ImErrorCode.jsonParseFailed, 'AttrNames must be an object');
  const assignments = new Map<number, string>();
  for (const key of Object.keys(attrNames)) {
    const slot = Number(key);
    if (!SLOT_KEY.test(key) || slot >= ATTR_SLOT_COUNT)
      return fail(ImErrorCode.invalidParameter, `AttrNames keys must be "0".."${ATTR_SLOT_COUNT - 1}"`);
    const name = attrNames[key];
    if (!fitsAttrBytes(name) || name.length === 0) {
      return fail(ImErrorCode.invalidParameter, `AttrNames["${key}"] must be a name of 1..${MAX_ATTR_BYTES} bytes`);
    }
    assignments.set(slot, name);
  }
  store.setSlots(assignments);
  return { code: ImErrorCode.ok };
};
