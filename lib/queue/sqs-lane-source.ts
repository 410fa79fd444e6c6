import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk } from '../core/rules/chunk.ts';
import type { LaneSource, QueueRecord } from '../core/ports.ts';
import { ATTR } from './message-format.ts';
import { receivedQueueRecord } from './queue-record.ts';
import { QUEUE_BATCH_MAX } from '../core/ports.ts';

/**
 * The lanes queue read by the worker itself, beyond its event-source batch. Receives never wait (a short poll):
 * an invocation gathers what is ready and ends when nothing is. Each receive has its own
 * `ReceiveRequestAttemptId`, which the SDK's own retries of that call reuse, so a retried receive returns the same
 * messages instead of hiding others for a visibility timeout.
 */
export class SqsLaneSource implements LaneSource {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: { readonly client: SQSClient; readonly queueUrl: string }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async receive(max: number): Promise<readonly QueueRecord[]> {
    const answer = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'],
        MessageAttributeNames: [ATTR.requestId],
        ReceiveRequestAttemptId: randomUUID(),
      }),
    );
    return (answer.Messages ?? []).map(receivedQueueRecord);
  }

  async delete(records: readonly QueueRecord[]): Promise<readonly string[]> {
    const undeleted: string[] = [];
    for (const group of chunk(records, QUEUE_BATCH_MAX)) {
      try {
        const answer = await this.#client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#queueUrl,
            Entries: group.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receipt })),
          }),
        );
        for (const failure of answer.Failed ?? []) undeleted.push(group[Number(failure.Id)]?.id ?? '');
      } catch {
        undeleted.push(...group.map((r) => r.id));
      }
    }
    return undeleted;
  }
}
