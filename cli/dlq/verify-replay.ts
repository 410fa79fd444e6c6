/**
 * `dlq replay --verify`: a dead letter is older than anything applied after it, and IM keeps no history, so the
 * CLI cannot tell an older value from a newer one. An attribute already at the letter's value (or already absent,
 * for a removal) needs nothing; one holding another value may hold a newer update, and is skipped and reported.
 * An attribute IM holds no value for is skipped too, as "maybe removed since": a newer `null` may have removed it,
 * and writing the letter's value would bring the old value back. `--include-absent` replays those.
 */
import { setOwn } from '../../lib/core/rules/own-record.ts';
import type { AttrValue, UserTagOps, UserUpdate } from '../../lib/core/rules/types.ts';

export type SkipReason = 'already-applied' | 'changed-since' | 'maybe-removed-since';

export interface SkippedAttr {
  readonly To_Account: string;
  readonly name: string;
  readonly reason: SkipReason;
}

export interface VerifiedUsers {
  readonly keep: UserUpdate[];
  readonly skipped: SkippedAttr[];
}

/**
 * Splits users into what to replay and what to skip, against their current values in IM.
 * @param includeAbsent - replay values for attributes IM holds none for. Default false: skipped as maybe removed since.
 */
export function verifyAgainstIm(
  users: readonly UserUpdate[],
  current: ReadonlyMap<string, Readonly<Record<string, string>>>,
  includeAbsent = false,
): VerifiedUsers {
  const keep: UserUpdate[] = [];
  const skipped: SkippedAttr[] = [];
  for (const user of users) {
    const now = current.get(user.To_Account) ?? {};
    const attrs: Record<string, AttrValue> = {};
    for (const [name, value] of Object.entries(user.Attrs)) {
      const held = Object.hasOwn(now, name) ? now[name] : undefined;
      if (held === undefined && value !== null && includeAbsent) setOwn(attrs, name, value);
      else if (held === undefined && value !== null)
        skipped.push({ To_Account: user.To_Account, name, reason: 'maybe-removed-since' });
      else
        skipped.push({
          To_Account: user.To_Account,
          name,
          reason: held === (value ?? undefined) ? 'already-applied' : 'changed-since',
        });
    }
    if (Object.keys(attrs).length > 0) keep.push({ To_Account: user.To_Account, Attrs: attrs });
  }
  return { keep, skipped };
}

/**
 * The same care for a tags letter, against the users' tags in IM (`im_get_tag`): a tag already held (an add) or
 * already gone (a remove, a remove-all of a user with none) needs nothing; a removal whose tag IM still holds, or a
 * remove-all of a user holding tags, may have been undone by a newer add, and is skipped as changed since; an add
 * IM does not hold may have been removed since, and is skipped unless `includeAbsent`. `name` is the tag, or
 * `(all tags)` for a remove-all.
 */
export function verifyTagsAgainstIm(
  users: readonly UserTagOps[],
  current: ReadonlyMap<string, ReadonlySet<string>>,
  includeAbsent = false,
): { readonly keep: UserTagOps[]; readonly skipped: SkippedAttr[] } {
  const keep: UserTagOps[] = [];
  const skipped: SkippedAttr[] = [];
  for (const user of users) {
    const held = current.get(user.To_Account) ?? new Set<string>();
    const skip = (name: string, reason: SkipReason): void => {
      skipped.push({ To_Account: user.To_Account, name, reason });
    };
    if (user.RemoveAll === true) skip('(all tags)', held.size === 0 ? 'already-applied' : 'changed-since');
    for (const tag of user.Remove ?? []) skip(tag, held.has(tag) ? 'changed-since' : 'already-applied');
    const add: string[] = [];
    for (const tag of user.Add ?? []) {
      if (held.has(tag)) skip(tag, 'already-applied');
      else if (includeAbsent) add.push(tag);
      else skip(tag, 'maybe-removed-since');
    }
    if (add.length > 0) keep.push({ To_Account: user.To_Account, Add: add });
  }
  return { keep, skipped };
}
