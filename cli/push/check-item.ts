import { checkUser, isPlainRecord } from '../../lib/core/rules/check-user.ts';
import { checkTagEntry, tagRuleMessage, toUserTagOps } from '../../lib/core/rules/tag-entry.ts';
import { composeTagOps } from '../../lib/core/rules/tag-ops.ts';
import type { UserTagOps, UserUpdate } from '../../lib/core/rules/types.ts';
import { ruleMessage } from '../../lib/core/rules/rule-messages.ts';
import { describeFault } from '../../lib/core/rules/validate-users.ts';
import type { InputItem } from './input-item.ts';

/** A position refused by the gateway's rules (or unreadable), as written to `FILE.rejected.ndjson`. */
export interface RejectedItem {
  readonly position: number;
  readonly To_Account: string | null;
  /** The field, relative to the user (`Attrs.city`), or empty for the whole line. */
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** A checked item: the user's attribute updates, tag operations, or both. */
export type CheckedItem =
  | {
      readonly ok: true;
      readonly position: number;
      readonly user: UserUpdate | undefined;
      readonly tags: UserTagOps | undefined;
    }
  | { readonly ok: false; readonly rejected: RejectedItem };

/** The tag operations an entry may carry beside (or instead of) `Attrs`. */
const TAG_FIELDS = ['RemoveAll', 'Remove', 'Add'] as const;

/** An entry's tag operations, checked by the tags route's rules, or undefined when it carries none. */
function checkTags(item: { position: number; entry: unknown }): CheckedItem | undefined {
  const { entry } = item;
  if (!isPlainRecord(entry) || !TAG_FIELDS.some((field) => Object.hasOwn(entry, field))) return undefined;
  const picked = Object.fromEntries(
    ['To_Account', ...TAG_FIELDS].filter((f) => Object.hasOwn(entry, f)).map((f) => [f, entry[f]]),
  );
  const check = checkTagEntry(picked);
  if (check.ok)
    return {
      ok: true,
      position: item.position,
      user: undefined,
      tags: toUserTagOps(check.account, composeTagOps(check.ops)),
    };
  const { fault } = check;
  return {
    ok: false,
    rejected: {
      position: item.position,
      To_Account: fault.account,
      path: fault.field,
      rule: fault.rule,
      reason: tagRuleMessage(fault.field === '' ? `entry ${item.position}` : fault.field, fault.rule, fault.detail),
    },
  };
}

/**
 * Checks one item with the gateway's own per-user rules (lib/core/rules), as the intake worker will: `Attrs` by the
 * attribute rules, `RemoveAll`/`Remove`/`Add` by the tag rules; an entry with tag operations needs no `Attrs`.
 */
export function checkItem(
  item: InputItem,
  allowedNames: ReadonlySet<string> | undefined,
  positionName: 'line' | 'entry',
): CheckedItem {
  if (item.kind === 'unreadable') {
    return {
      ok: false,
      rejected: { position: item.position, To_Account: item.account, path: '', rule: item.rule, reason: item.reason },
    };
  }
  const tags = checkTags(item);
  if (tags !== undefined && !tags.ok) return tags;
  const tagOps = tags?.ok === true ? tags.tags : undefined;
  if (tagOps !== undefined && isPlainRecord(item.entry) && !Object.hasOwn(item.entry, 'Attrs'))
    return { ok: true, position: item.position, user: undefined, tags: tagOps };
  const check = checkUser(item.entry, allowedNames);
  if (check.ok) return { ok: true, position: item.position, user: check.user, tags: tagOps };
  const { fault } = check;
  const { path, rule, message } = describeFault([], fault);
  // A fault of the whole user has no field path: the sentence names the line instead.
  const reason = path === '' ? ruleMessage(`${positionName} ${item.position}`, rule, fault.detail) : message;
  return { ok: false, rejected: { position: item.position, To_Account: fault.account, path, rule, reason } };
}
