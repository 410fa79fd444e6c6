import type { SQSRecord } from 'aws-lambda';

/** How one invocation ended, from the event source's point of view. */
export type InvocationResult =
  | { readonly kind: 'returned'; readonly response: unknown }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'timed-out'; readonly timeoutMs: number };

/** Why a whole batch counts as failed. */
export type WholeBatchFailure = 'threw' | 'timed-out' | 'invalid-response' | 'invalid-item-identifier';

/** Which records to delete and which to leave for redelivery. */
export interface BatchOutcome {
  readonly succeeded: readonly SQSRecord[];
  readonly failed: readonly SQSRecord[];
  readonly wholeBatchFailure?: WholeBatchFailure;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Applies Lambda's `ReportBatchItemFailures` rules. Complete success: no response, or no / an empty
 * `batchItemFailures`. Complete failure: an error, a timeout, a response that is not an object, or an
 * `itemIdentifier` that is missing, empty or not a message id of the batch. Otherwise the listed
 * records failed and the rest succeeded. The response is checked at run time, as Lambda only sees JSON.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
export function settleBatch(records: readonly SQSRecord[], result: InvocationResult): BatchOutcome {
  const wholeBatch = (reason: WholeBatchFailure): BatchOutcome => ({
    succeeded: [],
    failed: records,
    wholeBatchFailure: reason,
  });
  if (result.kind !== 'returned') return wholeBatch(result.kind);
  const { response } = result;
  if (response === undefined || response === null) return { succeeded: records, failed: [] };
  if (!isRecord(response)) return wholeBatch('invalid-response');
  const failures = response['batchItemFailures'] ?? [];
  if (!Array.isArray(failures)) return wholeBatch('invalid-response');
  const ids = new Set(records.map((r) => r.messageId));
  const failedIds = new Set<string>();
  for (const failure of failures) {
    const id = isRecord(failure) ? failure['itemIdentifier'] : undefined;
    if (typeof id !== 'string' || !ids.has(id)) return wholeBatch('invalid-item-identifier');
    failedIds.add(id);
  }
  return {
    succeeded: records.filter((r) => !failedIds.has(r.messageId)),
    failed: records.filter((r) => failedIds.has(r.messageId)),
  };
}
