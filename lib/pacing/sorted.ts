/** Sorted arrays of times, shared by the pacers. */

/** Index of the first element of the ascending `sorted` greater than `value`. */
export function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `value` into the ascending `sorted`, after any equal element. */
export function insertSorted(sorted: number[], value: number): void {
  sorted.splice(upperBound(sorted, value), 0, value);
}
