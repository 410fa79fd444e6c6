import { MAX_USERS_PER_CALL } from '../rules/constants.ts';
import { chunk } from '../rules/chunk.ts';
import { setOwn } from '../rules/own-record.ts';
import type { UserAttr, UserAttrRemoval, UserTagOps, UserUpdate } from '../rules/types.ts';
import type { AttrCall, WriteCall } from './types.ts';

/** The same call with other users of its own kind (a subset of its users). */
function withUsers(
  call: WriteCall,
  pick: <U extends { readonly To_Account: string }>(users: readonly U[]) => U[],
): WriteCall {
  switch (call.kind) {
    case 'set':
      return { kind: 'set', users: pick(call.users) };
    case 'remove':
      return { kind: 'remove', users: pick(call.users) };
    case 'remove-all-tags':
      return { kind: 'remove-all-tags', users: pick(call.users) };
    case 'remove-tags':
      return { kind: 'remove-tags', users: pick(call.users) };
    case 'add-tags':
      return { kind: 'add-tags', users: pick(call.users) };
  }
}

/** The users of a call kept by `keep`, as a call of the same kind. */
export function subCall(call: WriteCall, keep: (account: string) => boolean): WriteCall {
  return withUsers(call, (users) => users.filter((u) => keep(u.To_Account)));
}

/** A call's first `count` users and the rest, for bisecting a call IM refused as a whole. */
export function splitCall(call: WriteCall, count: number): [WriteCall, WriteCall] {
  return [withUsers(call, (users) => users.slice(0, count)), withUsers(call, (users) => users.slice(count))];
}

/** Each (account, attribute name) an attribute call writes; none for a tag call. */
export function callPairs(call: WriteCall): { readonly account: string; readonly name: string }[] {
  const pairs: { account: string; name: string }[] = [];
  if (call.kind === 'set')
    for (const u of call.users) for (const name of Object.keys(u.Attrs)) pairs.push({ account: u.To_Account, name });
  else if (call.kind === 'remove')
    for (const u of call.users) for (const name of u.Attrs) pairs.push({ account: u.To_Account, name });
  return pairs;
}

/**
 * The call's users as the gateway takes them, for dead letters: attributes with `null` for a removed one
 * (`UserAttrs` entries), tags as `UserTags` entries of the call's one operation.
 */
export function callEntries(call: WriteCall): (UserUpdate | UserTagOps)[] {
  switch (call.kind) {
    case 'set':
      return [...call.users];
    case 'remove':
      return call.users.map((u) => ({
        To_Account: u.To_Account,
        Attrs: Object.fromEntries(u.Attrs.map((name) => [name, null])),
      }));
    case 'remove-all-tags':
      return call.users.map((u) => ({ To_Account: u.To_Account, RemoveAll: true }));
    case 'remove-tags':
      return call.users.map((u) => ({ To_Account: u.To_Account, Remove: u.Tags }));
    case 'add-tags':
      return call.users.map((u) => ({ To_Account: u.To_Account, Add: u.Tags }));
  }
}

/**
 * Turns updates of distinct users into IM calls: the values to set go into `im_set_attr` calls, the
 * names to remove into `im_remove_attr` calls, at most 100 users each. A user with both appears in one
 * call of each kind; they touch different attributes, so their order does not matter.
 */
export function planWriteCalls(updates: readonly UserUpdate[]): AttrCall[] {
  const sets: UserAttr[] = [];
  const removes: UserAttrRemoval[] = [];
  for (const update of updates) {
    let values: Record<string, string> | undefined;
    let names: string[] | undefined;
    for (const [name, value] of Object.entries(update.Attrs)) {
      if (value === null) (names ??= []).push(name);
      else setOwn((values ??= {}), name, value);
    }
    if (values !== undefined) sets.push({ To_Account: update.To_Account, Attrs: values });
    if (names !== undefined) removes.push({ To_Account: update.To_Account, Attrs: names });
  }
  return [
    ...chunk(sets, MAX_USERS_PER_CALL).map((users): AttrCall => ({ kind: 'set', users })),
    ...chunk(removes, MAX_USERS_PER_CALL).map((users): AttrCall => ({ kind: 'remove', users })),
  ];
}

/** How many users a list of calls writes. */
export function countUsers(calls: readonly { readonly call: WriteCall }[] | readonly WriteCall[]): number {
  let n = 0;
  for (const item of calls) n += ('call' in item ? item.call : item).users.length;
  return n;
}
