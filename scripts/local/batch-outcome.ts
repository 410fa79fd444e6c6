import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/** How one invocation ended, from the event source's point of view. */
export type InvocationResult =
  | { readonly kind: 'returned'; readonly response: SQSBatchResponse | void | null | undefined }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'timed-out'; readonly timeoutMs: number };

/** Which records to delete and which to leave for redelivery. */
export interface BatchOutcome {
  readonly succeeded: readonly SQSRecord[];
  readonly failed: readonly SQSRecord[];
  /** Why the whole batch counts as failed, when it does. */
  readonly wholeBatchFailure?: 'threw' | 'timed-out' | 'invalid-item-identifier';
}

/**
 * Applies Lambda's `ReportBatchItemFailures` rules: an empty or missing `batchItemFailures` means every
 * record succeeded; listed ids failed; an error, a timeout, or an identifier that is empty or not in the
 * batch fails the whole batch.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
export function settleBatch(records: readonly SQSRecord[], result: InvocationResult): BatchOutcome {
  if (result.kind !== 'returned') return { succeeded: [], failed: records, wholeBatchFailure: result.kind };
  const failures = result.response?.batchItemFailures ?? [];
  const ids = new Set(records.map((r) => r.messageId));
  const failedIds = new Set<string>();
  for (const failure of failures) {
    // The declared type says string, but a handler's JSON may say otherwise: Lambda checks at run time.
    const id: unknown = failure.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) {
      return { succeeded: [], failed: records, wholeBatchFailure: 'invalid-item-identifier' };
    }
    failedIds.add(id);
  }
  return {
    succeeded: records.filter((r) => !failedIds.has(r.messageId)),
    failed: records.filter((r) => failedIds.has(r.messageId)),
  };
}
