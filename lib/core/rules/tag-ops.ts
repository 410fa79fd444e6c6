/**
 * Tag operations of one user, as IM's tag commands apply them (Tencent docs 269/45941–45943): add, remove, and
 * remove-all. A lane merges a user's operations in the order they were accepted into at most one remove-all, one
 * remove and one add, applied in that order, which leaves IM with exactly the tag set the operations one by one
 * would have left: a later add of a tag cancels an earlier remove of it, a later remove cancels an earlier add, and
 * a remove-all cancels everything before it.
 */
import { MAX_TAG_BYTES } from './constants.ts';
import { fitsInUtf8Bytes } from './utf8.ts';

/** One accepted operation on a user's tags. */
export type TagOp =
  | { readonly kind: 'add'; readonly tags: readonly string[] }
  | { readonly kind: 'remove'; readonly tags: readonly string[] }
  | { readonly kind: 'remove-all' };

/** A user's operations composed: applied as remove-all (when set), then remove, then add. */
export interface ComposedTags {
  readonly removeAll: boolean;
  readonly remove: ReadonlySet<string>;
  readonly add: ReadonlySet<string>;
}

export const NO_TAG_OPS: ComposedTags = { removeAll: false, remove: new Set(), add: new Set() };

/** Tags one add call carries per user (doc 269/45941): a larger add is split into several calls, never refused. */
export const MAX_TAGS_PER_ADD_CALL = 10;

/** Whether a tag is one IM takes: a non-empty string of at most 50 UTF-8 bytes (doc 269/45941). */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === 'string' && tag !== '' && fitsInUtf8Bytes(tag, MAX_TAG_BYTES);
}

/** Composes `op` after `before`. */
export function composeTagOp(before: ComposedTags, op: TagOp): ComposedTags {
  if (op.kind === 'remove-all') return { removeAll: true, remove: new Set(), add: new Set() };
  const remove = new Set(before.remove);
  const add = new Set(before.add);
  for (const tag of op.tags) {
    if (op.kind === 'add') {
      add.add(tag);
      // Removed before, added now: the add alone leaves it present.
      remove.delete(tag);
    } else {
      add.delete(tag);
      // After a remove-all the tag is gone already: no call needs to name it.
      if (!before.removeAll) remove.add(tag);
    }
  }
  return { removeAll: before.removeAll, remove, add };
}

/** Composes a user's operations in the order they were accepted, after `before` (default: none). */
export function composeTagOps(ops: readonly TagOp[], before: ComposedTags = NO_TAG_OPS): ComposedTags {
  return ops.reduce(composeTagOp, before);
}

/** The tag set a user ends with when `composed` is applied to `held`: remove-all, then remove, then add. */
export function applyComposed(held: ReadonlySet<string>, composed: ComposedTags): Set<string> {
  const kept = composed.removeAll ? [] : [...held].filter((tag) => !composed.remove.has(tag));
  return new Set([...kept, ...composed.add]);
}
