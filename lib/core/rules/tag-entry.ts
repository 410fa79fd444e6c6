/**
 * One user's entry of a tags request: `{"To_Account","RemoveAll":true,"Remove":[…],"Add":[…]}`, applied in that
 * order (remove-all, then remove, then add), or IM's own add shape `{"To_Account","Tags":[…]}`. A tag is a
 * non-empty string of at most 50 UTF-8 bytes; a tag named twice counts once; more than 10 added tags are split
 * into calls later (dispatch/tag-calls.ts), never refused. Its faults name the field and the rule, never a value.
 */
import { MAX_ACCOUNT_BYTES, MAX_TAG_BYTES } from './constants.ts';
import { RequestShapeError } from '../errors.ts';
import { describeType, isPlainRecord } from './check-user.ts';
import { formatFieldPath } from './field-path.ts';
import { ruleMessage } from './rule-messages.ts';
import { composeTagOps, type ComposedTags, type TagOp } from './tag-ops.ts';
import type { Rejection, UserTagOps } from './types.ts';
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

// What each tag rule demands, phrased to follow the field path in a sentence (as rule-messages.ts for attributes).
const TAG_DEMANDS: Readonly<Record<TagRule, string>> = {
  'user-must-be-object': 'must be an object with To_Account and at least one of RemoveAll, Remove, Add (or Tags)',
  'to-account-required': 'is required and must not be empty',
  'to-account-must-be-string': 'must be a string',
  'to-account-max-32-bytes': `must be at most ${MAX_ACCOUNT_BYTES} bytes in UTF-8`,
  'tag-op-required': 'must hold RemoveAll: true, or a non-empty Remove, Add or Tags',
  'tags-must-be-array': 'must be an array of tags',
  'tag-must-be-string': 'must be a string',
  'tag-required': 'must not be empty',
  'tag-max-50-bytes': `must be at most ${MAX_TAG_BYTES} bytes in UTF-8`,
  'remove-all-must-be-true': 'must be true when present',
};

/** Whether `value` is the name of a per-user tag rule. */
export function isTagRule(value: unknown): value is TagRule {
  return typeof value === 'string' && Object.hasOwn(TAG_DEMANDS, value);
}

/** A sentence naming the field and the rule, e.g. `UserTags[2].Add[0] must be at most 50 bytes in UTF-8 (it is 51) [tag-max-50-bytes].` */
export function tagRuleMessage(path: string, rule: TagRule, detail?: string): string {
  const extra = detail === undefined ? '' : ` (${detail})`;
  return `${path === '' ? 'The entry' : path} ${TAG_DEMANDS[rule]}${extra} [${rule}].`;
}

/** The entries of a tags request and the field that holds them. */
export interface TagsEnvelope {
  readonly field: 'UserTags' | 'To_Account';
  /** `UserTags` entries; for IM's remove-all shape, one `{To_Account, RemoveAll: true}` per account. */
  readonly entries: readonly unknown[];
}

/**
 * Reads the envelope of a tags request: `{"UserTags":[…]}`, or IM's own remove-all shape `{"To_Account":[…]}`
 * (doc 269/45943), whose accounts each lose every tag.
 *
 * @throws RequestShapeError (`body-must-be-object` or `user-tags-must-be-array`) otherwise.
 */
export function parseUserTagsEnvelope(body: unknown): TagsEnvelope {
  if (!isPlainRecord(body))
    throw new RequestShapeError('', 'body-must-be-object', ruleMessage('', 'body-must-be-object'));
  const userTags = Object.hasOwn(body, 'UserTags') ? body['UserTags'] : undefined;
  if (Array.isArray(userTags)) return { field: 'UserTags', entries: userTags };
  const accounts = Object.hasOwn(body, 'To_Account') ? body['To_Account'] : undefined;
  if (userTags === undefined && Array.isArray(accounts))
    return { field: 'To_Account', entries: accounts.map((To_Account: unknown) => ({ To_Account, RemoveAll: true })) };
  throw new RequestShapeError(
    'UserTags',
    'user-tags-must-be-array',
    ruleMessage('UserTags', 'user-tags-must-be-array'),
  );
}

/** A user's composed operations in the form the lanes carry (empty parts left out). */
export function toUserTagOps(account: string, composed: ComposedTags): UserTagOps {
  return {
    To_Account: account,
    ...(composed.removeAll ? { RemoveAll: true as const } : {}),
    ...(composed.remove.size > 0 ? { Remove: [...composed.remove] } : {}),
    ...(composed.add.size > 0 ? { Add: [...composed.add] } : {}),
  };
}

/** The operations of an entry in the lanes' form, in the order they apply. */
export function tagOpsOf(entry: UserTagOps): TagOp[] {
  const ops: TagOp[] = [];
  if (entry.RemoveAll === true) ops.push({ kind: 'remove-all' });
  if (entry.Remove !== undefined && entry.Remove.length > 0) ops.push({ kind: 'remove', tags: entry.Remove });
  if (entry.Add !== undefined && entry.Add.length > 0) ops.push({ kind: 'add', tags: entry.Add });
  return ops;
}

/**
 * Applies the tag rules to some entries of a tags request, by index (ascending): each refused entry becomes a
 * `Rejection` (its first fault) while the others go on; a user's accepted entries are composed, in order, into one
 * `UserTagOps` (users in first-seen order), so a request's lane messages carry each user once.
 */
export function validateTagEntries(
  envelope: TagsEnvelope,
  indexes: Iterable<number>,
): { readonly users: UserTagOps[]; readonly rejected: Rejection[] } {
  const composed = new Map<string, ComposedTags>();
  const rejected: Rejection[] = [];
  for (const index of indexes) {
    const check = checkTagEntry(envelope.entries[index]);
    if (!check.ok) {
      const { fault } = check;
      // IM's remove-all shape names an account per element: the element is the field.
      const path =
        envelope.field === 'To_Account'
          ? formatFieldPath(['To_Account', index])
          : formatFieldPath(['UserTags', index]) + (fault.field === '' ? '' : `.${fault.field}`);
      rejected.push({
        To_Account: fault.account,
        index,
        path,
        rule: fault.rule,
        message: tagRuleMessage(path, fault.rule, fault.detail),
      });
      continue;
    }
    composed.set(check.account, composeTagOps(check.ops, composed.get(check.account)));
  }
  return { users: [...composed].map(([account, c]) => toUserTagOps(account, c)), rejected };
}
