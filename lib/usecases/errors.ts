/** The remaining users could not be queued: the caller must send the request again (setting attributes is idempotent). */
export class OverflowUnavailableError extends Error {
  override readonly name = 'OverflowUnavailableError';
  readonly applied: number;
  readonly pending: number;
  constructor(message: string, counts: { applied: number; pending: number }, options?: ErrorOptions) {
    super(message, options);
    this.applied = counts.applied;
    this.pending = counts.pending;
  }
}
