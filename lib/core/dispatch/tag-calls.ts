/**
 * IM calls for users' composed tag operations (rules/tag-ops.ts): every remove-all, then every remove, then every
 * add, each phase in calls of at most 100 users. An add names at most 10 tags per user (doc 269/45941), so a user
 * adding more is in several add calls of the same phase; adds commute, so their order does not matter. The phases
 * must run one after another for the same user: a remove-all after an add would undo it.
 */
import { chunk } from '../rules/chunk.ts';
import { MAX_TAGS_PER_ADD_CALL, type ComposedTags } from '../rules/tag-ops.ts';
import type { UserTagList } from '../rules/types.ts';
import type { TagCall } from './types.ts';

/** The calls of each phase, in the order the phases must run. */
export interface TagCallPlan {
  readonly removeAll: readonly TagCall[];
  readonly remove: readonly TagCall[];
  readonly add: readonly TagCall[];
}

export function planTagCalls(composed: ReadonlyMap<string, ComposedTags>): TagCallPlan {
  const users = [...composed];
  const removeAll = chunk(users.filter(([, c]) => c.removeAll).map(([To_Account]) => ({ To_Account }))).map(
    (list): TagCall => ({ kind: 'remove-all-tags', users: list }),
  );
  const removing = users
    .filter(([, c]) => c.remove.size > 0)
    .map(([account, c]): UserTagList => ({ To_Account: account, Tags: [...c.remove] }));
  const remove = chunk(removing).map((list): TagCall => ({ kind: 'remove-tags', users: list }));
  // A user's k-th slice of 10 tags goes into the k-th round of add calls.
  const slices = users.map(([account, c]) =>
    chunk([...c.add], MAX_TAGS_PER_ADD_CALL).map((Tags) => ({ account, Tags })),
  );
  const rounds = Math.max(0, ...slices.map((s) => s.length));
  const add: TagCall[] = [];
  for (let round = 0; round < rounds; round++) {
    const list = slices.flatMap((s) => {
      const slice = s[round];
      return slice === undefined ? [] : [{ To_Account: slice.account, Tags: slice.Tags }];
    });
    for (const part of chunk(list)) add.push({ kind: 'add-tags', users: part });
  }
  return { removeAll, remove, add };
}
