/**
 * `dlq replay --verify`: a dead letter is older than anything applied after it, and IM keeps no history, so the
 * CLI cannot tell an older value from a newer one. It replays only what cannot overwrite anything: an attribute
 * IM holds no value for. An attribute already at the letter's value (or already absent, for a removal) needs
 * nothing; one holding another value may hold a newer update, and is skipped and reported.
 */
import { setOwn } from '../../lib/rules/own-record.ts';
import type { AttrValue, UserUpdate } from '../../lib/rules/types.ts';

export type SkipReason = 'already-applied' | 'changed-since';

export interface SkippedAttr {
  readonly To_Account: string;
  readonly name: string;
  readonly reason: SkipReason;
}

export interface VerifiedUsers {
  readonly keep: UserUpdate[];
  readonly skipped: SkippedAttr[];
}

/** Splits users into what to replay and what to skip, against their current values in IM. */
export function verifyAgainstIm(users: readonly UserUpdate[], current: ReadonlyMap<string, Readonly<Record<string, string>>>): VerifiedUsers {
  const keep: UserUpdate[] = [];
  const skipped: SkippedAttr[] = [];
  for (const user of users) {
    const now = current.get(user.To_Account) ?? {};
    const attrs: Record<string, AttrValue> = {};
    for (const [name, value] of Object.entries(user.Attrs)) {
      const held = Object.hasOwn(now, name) ? now[name] : undefined;
      if (held === undefined && value !== null) setOwn(attrs, name, value);
      else skipped.push({ To_Account: user.To_Account, name, reason: held === (value ?? undefined) ? 'already-applied' : 'changed-since' });
    }
    if (Object.keys(attrs).length > 0) keep.push({ To_Account: user.To_Account, Attrs: attrs });
  }
  return { keep, skipped };
}
