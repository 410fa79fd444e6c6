/**
 * Some users could not be written into their lanes, so the request was not accepted as a whole. Users
 * already in lanes stay there; the caller sends the request again with the same `webhook-id`, which adds
 * nothing twice (SQS deduplication, 5 minutes) and completes the rest.
 */
export class LanesUnavailableError extends Error {
  override readonly name = 'LanesUnavailableError';
  readonly accepted: number;
  readonly pending: number;
  constructor(message: string, counts: { accepted: number; pending: number }, options?: ErrorOptions) {
    super(message, options);
    this.accepted = counts.accepted;
    this.pending = counts.pending;
  }
}
/** A request with this key is still being handled by another delivery: the caller retries later (409). */
export class RequestInProgressError extends Error {
  override readonly name = 'RequestInProgressError';
}

/** The key was used before for a different body (409 would mislead: it will never succeed). */
export class RequestKeyReusedError extends Error {
  override readonly name = 'RequestKeyReusedError';
}

/** The idempotency store could not be read or written: nothing was applied, and the caller sends again (503). */
export class IdempotencyUnavailableError extends Error {
  override readonly name = 'IdempotencyUnavailableError';
}
