/**
 * Counts events in a sliding time window (e.g. calls in the last 1000 ms).
 * Timestamps live in a queue with a moving head, so each event costs O(1) amortised.
 */
export class SlidingWindow {
  readonly #windowMs: number;
  #times: number[] = [];
  #head = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Events whose timestamp is within `windowMs` before `nowMs` (exclusive lower bound). */
  count(nowMs: number): number {
    this.#evict(nowMs);
    return this.#times.length - this.#head;
  }

  /** Records an event at `nowMs` and returns the count including it. */
  add(nowMs: number): number {
    this.#evict(nowMs);
    this.#times.push(nowMs);
    return this.#times.length - this.#head;
  }

  /**
   * Records an event only when fewer than `limit` are in the window.
   * Returns the new count, or undefined when the window is full. `limit` 0 means unlimited.
   */
  tryAdd(nowMs: number, limit: number): number | undefined {
    if (limit > 0 && this.count(nowMs) >= limit) return undefined;
    return this.add(nowMs);
  }

  clear(): void {
    this.#times = [];
    this.#head = 0;
  }

  #evict(nowMs: number): void {
    const cutoff = nowMs - this.#windowMs;
    const times = this.#times;
    let head = this.#head;
    while (head < times.length && (times[head] ?? Infinity) <= cutoff) head++;
    // Compact once the dead prefix dominates, so memory stays bounded by the live window.
    if (head > 1024 && head * 2 > times.length) {
      this.#times = times.slice(head);
      head = 0;
    }
    this.#head = head;
  }
}
