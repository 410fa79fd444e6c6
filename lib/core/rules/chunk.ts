import { MAX_USERS_PER_CALL } from './constants.ts';

/**
 * Splits `items` into consecutive groups of at most `size`, order kept: one group per IM call.
 * An empty input gives no groups.
 *
 * @param size - Group size, a positive integer; defaults to `MAX_USERS_PER_CALL` (100).
 * @throws RangeError when `size` is not a positive integer.
 */
export function chunk<T>(items: readonly T[], size: number = MAX_USERS_PER_CALL): T[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`chunk size must be a positive integer, got ${String(size)}`);
  }
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) groups.push(items.slice(start, start + size));
  return groups;
}
