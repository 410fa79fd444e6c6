/** Builders for request bodies in the rules tests. */

/** `count` CJK characters, 3 UTF-8 bytes each. */
export function cjk(count: number): string {
  return '城'.repeat(count);
}

/** One `UserAttrs` entry. */
export function userEntry(account: unknown, attrs: unknown): Record<string, unknown> {
  return { To_Account: account, Attrs: attrs };
}

/** A body holding the given entries. */
export function bodyOf(...entries: unknown[]): { UserAttrs: unknown[] } {
  return { UserAttrs: entries };
}

/** An attribute map `{ n0: "v0", n1: "v1", ... }` with `count` names. */
export function attrsWithNames(count: number, prefix = 'n'): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, `v${i}`]));
}

/** The index of the `UserAttrs` entry a rejection path points to, e.g. 3 for `UserAttrs[3].Attrs.city`. */
export function entryIndex(path: string): number {
  const match = /^UserAttrs\[(\d+)\]/.exec(path);
  if (match === null) throw new Error(`not a user path: ${path}`);
  return Number(match[1]);
}
