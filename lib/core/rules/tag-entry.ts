/**
 * One user's entry of a tags request: `{"To_Account","RemoveAll":true,"Remove":[…],"Add":[…]}`, applied in that
 * order (remove-all, then remove, then add), or IM's own add shape `{"To_Account","Tags":[…]}`. A tag is a
 * non-empty string of at most 50 UTF-8 bytes; a tag named twice counts once; more than 10 added tags are split
 * into calls later (dispatch/tag-calls.ts), never refused. Its faults name the field and the rule, never a value.
 */
import { MAX_ACCOUNT_BYTES, MAX_TAG_BYTES } from './constants.ts';
import { describeType, isPlainRecord } from './check-user.ts';
import type { TagOp } from './tag-ops.ts';
import { fitsInUtf8Bytes } from './utf8.ts';

/** Stable names of the rules that refuse one user's tags entry. */
export type TagRule =
  | 'user-must-be-object'
  | 'to-account-required'
  | 'to-account-must-be-string'
  | 'to-account-max-32-bytes'
  | 'tag-op-required'
  | 'tags-must-be-array'
  | 'tag-must-be-string'
  | 'tag-required'
  | 'tag-max-50-bytes'
  | 'remove-all-must-be-true';

/** Why one entry was refused; `field` is relative to the entry. */
export interface TagFault {
  readonly account: string | null;
  readonly field: string;
  readonly rule: TagRule;
  readonly detail?: string;
}

export type TagEntryCheck =
  | { readonly ok: true; readonly account: string; readonly ops: readonly TagOp[] }
  | { readonly ok: false; readonly fault: TagFault };

const refuse = (account: string | null, field: string, rule: TagRule, detail?: string): TagEntryCheck => ({
  ok: false,
  fault: detail === undefined ? { account, field, rule } : { account, field, rule, detail },
});

/** The tags of one list, each once, or the refusal of the first bad one. */
function tagList(
  account: string,
  field: string,
  value: unknown,
): { readonly tags: readonly string[] } | { readonly refused: TagEntryCheck } {
  const fault = (at: string, rule: TagRule, detail?: string) => ({ refused: refuse(account, at, rule, detail) });
  if (!Array.isArray(value)) return fault(field, 'tags-must-be-array', `it is ${describeType(value)}`);
  for (const [i, tag] of value.entries()) {
    if (typeof tag !== 'string') return fault(`${field}[${i}]`, 'tag-must-be-string', `it is ${describeType(tag)}`);
    if (tag === '') return fault(`${field}[${i}]`, 'tag-required');
    if (!fitsInUtf8Bytes(tag, MAX_TAG_BYTES))
      return fault(`${field}[${i}]`, 'tag-max-50-bytes', `it is ${Buffer.byteLength(tag, 'utf8')} bytes`);
  }
  return { tags: [...new Set(value.filter((tag): tag is string => typeof tag === 'string'))] };
}

/** Reads one entry into its operations, in the order the contract applies them. */
export function checkTagEntry(entry: unknown): TagEntryCheck {
  if (!isPlainRecord(entry)) return refuse(null, '', 'user-must-be-object');
  const account = Object.hasOwn(entry, 'To_Account') ? entry['To_Account'] : undefined;
  if (account === undefined || account === null || account === '')
    return refuse(typeof account === 'string' ? account : null, 'To_Account', 'to-account-required');
  if (typeof account !== 'string')
    return refuse(null, 'To_Account', 'to-account-must-be-string', `it is ${describeType(account)}`);
  if (!fitsInUtf8Bytes(account, MAX_ACCOUNT_BYTES))
    return refuse(
      account,
      'To_Account',
      'to-account-max-32-bytes',
      `it is ${Buffer.byteLength(account, 'utf8')} bytes`,
    );

  const ops: TagOp[] = [];
  if (Object.hasOwn(entry, 'RemoveAll')) {
    if (entry['RemoveAll'] !== true) return refuse(account, 'RemoveAll', 'remove-all-must-be-true');
    ops.push({ kind: 'remove-all' });
  }
  for (const [field, kind] of [
    ['Remove', 'remove'],
    ['Add', 'add'],
    ['Tags', 'add'],
  ] as const) {
    if (!Object.hasOwn(entry, field)) continue;
    const list = tagList(account, field, entry[field]);
    if ('refused' in list) return list.refused;
    if (list.tags.length > 0) ops.push({ kind, tags: list.tags });
  }
  if (ops.length === 0) return refuse(account, '', 'tag-op-required');
  return { ok: true, account, ops };
}
