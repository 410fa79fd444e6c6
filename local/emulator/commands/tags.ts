/**
 * The four tag commands of all-member push (Tencent docs 269/45940–45943; docs/im-api.md, "Tags"): add and remove
 * take `{"UserTags":[{"To_Account","Tags":[…]}]}`, remove-all and get take `{"To_Account":[…]}`; at most 100 users a
 * call. An add carries at most 10 tags per user, a tag is 1..50 UTF-8 bytes, and a user holds at most 100 tags.
 * As with attributes, every user is checked before anything is applied: one bad user fails the whole call.
 */
import { ImErrorCode } from '../error-codes.ts';
import { fail } from '../im-answer.ts';
import { applyEach } from './apply-each.ts';
import type { Command, CommandContext, CommandResult } from './types.ts';
import { accountEntryAt, accountListOf, fitsAttrBytes, userAttrsOf } from './validation.ts';

/** Tags one add may carry for one user (doc 269/45941). */
export const MAX_TAGS_PER_ADD = 10;
/** Tags one user may hold (doc 269/45941). */
export const MAX_TAGS_PER_USER = 100;

interface TagEntry {
  readonly account: string;
  readonly tags: readonly string[];
}

/** The `UserTags` entries of an add or remove, each checked; or the answer refusing the whole call. */
function tagEntriesOf(body: unknown, maxTags: number): { entries: TagEntry[] } | { refusal: CommandResult } {
  const read = userAttrsOf(body, 'UserTags');
  if ('refusal' in read) return read;
  const entries: TagEntry[] = [];
  for (const [index, raw] of read.entries.entries()) {
    const at = accountEntryAt(raw, index, 'UserTags');
    if ('refusal' in at) return at;
    const tags = at.entry['Tags'];
    if (!Array.isArray(tags) || tags.length === 0)
      return { refusal: fail(ImErrorCode.invalidParameter, `UserTags[${index}].Tags must be a non-empty array`) };
    if (tags.length > maxTags)
      return { refusal: fail(ImErrorCode.invalidParameter, `UserTags[${index}].Tags holds more than ${maxTags} tags`) };
    if (!tags.every((tag) => fitsAttrBytes(tag) && tag !== ''))
      return { refusal: fail(ImErrorCode.invalidParameter, `UserTags[${index}]: a tag is a string of 1..50 bytes`) };
    entries.push({ account: at.account, tags: tags as string[] });
  }
  return { entries };
}

/** `applyEach`, with the users changed reported to the counters as for `im_set_attr`. */
function applyTagChange<E extends { readonly account: string }>(
  entries: readonly E[],
  context: CommandContext,
  change: (account: string) => void,
): CommandResult {
  const { answer, applied } = applyEach(entries, context, ({ account }) => change(account));
  return { ...answer, usersApplied: applied };
}

/**
 * `im_add_tag` (doc 269/45941). What IM answers when a user would pass 100 tags is not documented: the emulator
 * refuses the whole call with 60003 (inferred, like any other invalid parameter; docs/im-api.md).
 */
export const addTag: Command = (body, context) => {
  const read = tagEntriesOf(body, MAX_TAGS_PER_ADD);
  if ('refusal' in read) return read.refusal;
  const { tags } = context.store;
  const adding = (account: string): string[] =>
    read.entries.filter((e) => e.account === account).flatMap((e) => e.tags);
  for (const [index, { account }] of read.entries.entries()) {
    if (new Set([...(tags.get(account) ?? []), ...adding(account)]).size > MAX_TAGS_PER_USER)
      return fail(ImErrorCode.invalidParameter, `UserTags[${index}]: a user holds at most ${MAX_TAGS_PER_USER} tags`);
  }
  return applyTagChange(read.entries, context, (account) => {
    tags.set(account, new Set([...(tags.get(account) ?? []), ...adding(account)]));
  });
};

/** `im_remove_tag` (doc 269/45942): removes the listed tags; a tag the user does not hold is no error. */
export const removeTag: Command = (body, context) => {
  const read = tagEntriesOf(body, MAX_TAGS_PER_USER);
  if ('refusal' in read) return read.refusal;
  const { tags } = context.store;
  return applyTagChange(read.entries, context, (account) => {
    const removing = new Set(read.entries.filter((e) => e.account === account).flatMap((e) => e.tags));
    const left = [...(tags.get(account) ?? [])].filter((tag) => !removing.has(tag));
    if (left.length === 0) tags.delete(account);
    else tags.set(account, new Set(left));
  });
};

/** `im_remove_all_tags` (doc 269/45943). */
export const removeAllTags: Command = (body, context) => {
  const read = accountListOf(body);
  if ('refusal' in read) return read.refusal;
  return applyTagChange(
    read.accounts.map((account) => ({ account })),
    context,
    (account) => context.store.tags.delete(account),
  );
};

/** `im_get_tag` (doc 269/45940): `UserTags:[{To_Account, Tags}]`, `[]` for a user without tags. */
export const getTag: Command = (body, { store }) => {
  const read = accountListOf(body);
  if ('refusal' in read) return read.refusal;
  const userTags = read.accounts.map((account) => ({
    To_Account: account,
    Tags: [...(store.tags.get(account) ?? [])],
  }));
  return { code: ImErrorCode.ok, fields: { UserTags: userTags } };
};
