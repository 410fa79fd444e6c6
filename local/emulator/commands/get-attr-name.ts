import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import type { Command } from './types.ts';
import { isJsonObject } from './validation.ts';

/** `im_get_attr_name` (doc 269/45936): `{}` → `AttrNames: {"0":"sex",...}`. */
export const getAttrName: Command = (body, { store }) => {
  if (!isJsonObject(body)) return fail(ImErrorCode.jsonParseFailed, 'the body must be a JSON object');
  return { code: ImErrorCode.ok, fields: { AttrNames: store.slotMap() } };
};
