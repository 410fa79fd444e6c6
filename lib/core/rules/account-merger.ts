import type { UserFault } from './check-user.ts';
import { MAX_ATTR_NAMES } from './constants.ts';
import { setOwn } from './own-record.ts';
import type { AttrValue, UserUpdate } from './types.ts';

/**
 * Merges checked users by account, in first-seen order of accounts.
 *
 * The same `To_Account` twice in one request becomes one user: later attributes win per name, and names
 * keep the position where they first appeared (`{a:"1",b:"1"}` then `{b:"2"}` gives `{a:"1",b:"2"}`).
 * An entry whose names would take the merged user past `MAX_ATTR_NAMES` is refused as a whole
 * (`attrs-max-10-names`) and the account keeps what the earlier entries gave it.
 */
export class AccountMerger {
  readonly #users: UserUpdate[] = [];
  // Account → position in #users. Most accounts appear once, so the checked user is kept as it is and
  // only a duplicate builds a new object: fewer long-lived objects, less garbage-collection time.
  readonly #positions = new Map<string, number>();

  /**
   * Adds one checked user (a fresh object, e.g. from `checkUser`); returns a fault when merging it
   * would break the name limit.
   */
  add(user: UserUpdate): UserFault | undefined {
    const position = this.#positions.get(user.To_Account);
    if (position === undefined) {
      this.#positions.set(user.To_Account, this.#users.length);
      this.#users.push(user);
      return undefined;
    }
    const earlier = this.#users[position] as UserUpdate;
    const earlierNames = Object.keys(earlier.Attrs);
    const laterNames = Object.keys(user.Attrs);
    let merged = earlierNames.length;
    for (const name of laterNames) if (!Object.hasOwn(earlier.Attrs, name)) merged++;
    if (merged > MAX_ATTR_NAMES) {
      return {
        account: user.To_Account,
        path: ['Attrs'],
        rule: 'attrs-max-10-names',
        detail: `merged with earlier entries for the same To_Account it would have ${merged}`,
      };
    }
    const attrs: Record<string, AttrValue> = {};
    for (const name of earlierNames) setOwn(attrs, name, earlier.Attrs[name] ?? null);
    for (const name of laterNames) setOwn(attrs, name, user.Attrs[name] ?? null);
    this.#users[position] = { To_Account: user.To_Account, Attrs: attrs };
    return undefined;
  }

  /** The merged users, in first-seen order of accounts. */
  users(): UserUpdate[] {
    return [...this.#users];
  }
}
