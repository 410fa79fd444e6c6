import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk } from '../core/rules/chunk.ts';
import type { QueueRecord, Redelivery } from '../core/ports.ts';
import { QUEUE_BATCH_MAX } from '../core/ports.ts';

/**
 * Sets when failed records come back, by changing their visibility timeout: the worker's own backoff
 * instead of the queue's fixed timeout. SQS caps it at 12 hours.
 */
export class SqsRedelivery implements Redelivery {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { readonly client: SQSClient; readonly queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async retryLater(records: readonly QueueRecord[], delaySeconds: number): Promise<void> {
    const timeout = Math.max(0, Math.min(43_200, Math.round(delaySeconds)));
    for (const group of chunk(records, QUEUE_BATCH_MAX)) {
      const answer = await this.#client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: group.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receipt, VisibilityTimeout: timeout })),
        }),
      );
      const failed = answer.Failed ?? [];
      if (failed.length > 0)
        throw new Error(
          `SQS could not change the visibility of ${failed.length} records (${[...new Set(failed.map((f) => f.Code))].join(', ')})`,
        );
    }
  }
}
