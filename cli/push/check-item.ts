import { checkUser } from '../../lib/core/rules/check-user.ts';
import type { UserUpdate } from '../../lib/core/rules/types.ts';
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

export type CheckedItem =
  | { readonly ok: true; readonly position: number; readonly user: UserUpdate }
  | { readonly ok: false; readonly rejected: RejectedItem };

/** Checks one item with the gateway's own per-user rules (lib/core/rules/check-user.ts), as the intake worker will. */
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
  const check = checkUser(item.entry, allowedNames);
  if (check.ok) return { ok: true, position: item.position, user: check.user };
  const { fault } = check;
  const { path, rule, message } = describeFault([], fault);
  // A fault of the whole user has no field path: the sentence names the line instead.
  const reason = path === '' ? ruleMessage(`${positionName} ${item.position}`, rule, fault.detail) : message;
  return { ok: false, rejected: { position: item.position, To_Account: fault.account, path, rule, reason } };
}
