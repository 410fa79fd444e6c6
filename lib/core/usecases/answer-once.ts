/**
 * Answers each request once, fleet-wide: a re-delivery of a completed request gets the stored answer, a
 * re-delivery while the first is in progress is told to retry, and a failed request runs again when re-sent.
 * A request whose signature is older than the tolerance is answered only from the store, and never applied.
 */
import { StaleRequestError } from '../errors.ts';
import type { Idempotency, IdempotencyKey, StoredAnswer } from '../ports.ts';

export interface AnswerOnceInput {
  readonly key: IdempotencyKey | undefined;
  readonly fresh: boolean;
  /** Time left in the invocation: an in-progress record expires with it. */
  readonly remainingMs: number;
}

export async function answerOnce(
  idempotency: Idempotency | undefined,
  input: AnswerOnceInput,
  work: () => Promise<{ answer: StoredAnswer; store: boolean }>,
): Promise<StoredAnswer> {
  if (!input.fresh) {
    const stored =
      input.key === undefined || idempotency === undefined ? undefined : await idempotency.completed(input.key);
    if (stored === undefined)
      throw new StaleRequestError('the request is older than the signature tolerance and was not completed before');
    return stored;
  }
  if (input.key === undefined || idempotency === undefined) return (await work()).answer;
  return idempotency.once(input.key, input.remainingMs, work);
}
