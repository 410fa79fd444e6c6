/** Order statistics for benchmark samples. */

/** The `p`-th percentile (0..1) of `samples` by the nearest-rank method; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** The median of `samples`; NaN for no samples. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

/** Bytes as kilobytes (1024), one decimal. */
export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** Bytes as megabytes (1024²), one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
