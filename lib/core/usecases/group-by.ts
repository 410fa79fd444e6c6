/** Items grouped by key, groups in first-seen order and items in their order within each group. */
export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(item);
  }
  return groups;
}
