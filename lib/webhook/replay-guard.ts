/**
 * Remembers the webhook ids seen within the signature tolerance, so a captured request replayed inside its
 * 5-minute window is refused. In-memory per Lambda copy: it stops replays against the same warm copy; a
 * fleet-wide guarantee would need a shared store (e.g. a DynamoDB conditional put), and replays are harmless
 * here anyway because setting the same attributes twice is idempotent.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records the id; false when it was already seen within the window. */
  firstSighting(id: string): boolean {
    const now = this.#now();
    const seenAt = this.#seen.get(id);
    if (seenAt !== undefined && now - seenAt < this.#ttlMs) return false;
    this.#seen.delete(id);
    this.#seen.set(id, now);
    this.#evict(now);
    return true;
  }

  #evict(now: number): void {
    // Map iterates in insertion order: the oldest entries come first.
    for (const [id, seenAt] of this.#seen) {
      if (this.#seen.size <= this.#maxEntries && now - seenAt < this.#ttlMs) break;
      this.#seen.delete(id);
    }
  }
}
