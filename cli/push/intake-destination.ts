import type { SQSClient } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ATTR } from '../../lib/queue/message-format.ts';
import { packBatches, QueueSendError, sendBatch, type BatchEntry } from '../../lib/queue/sqs-batch.ts';
import type { Destination, GatewayRejection } from './destination.ts';
import type { PackedMessage } from './message-packer.ts';

/** A batch's entries that failed are sent again this many times in all, with a growing pause. */
const ATTEMPTS = 5;

export interface IntakeDestinationOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** One group for the whole file, so the worker moves its messages into lanes in file order. */
  readonly messageGroupId: string;
  readonly runId: string;
}

/**
 * The gateway's intake queue (FIFO), as any producer sends to it: IM's body, one message group per file, and a
 * deduplication id per message made of the run and the message's first position, so a batch sent again after an
 * interrupt or a failed call is dropped by SQS as a repeat (within its 5-minute window).
 */
export class IntakeDestination implements Destination {
  readonly label: string;
  /** SendMessageBatch takes 10 entries of 1 MiB together; `packBatches` splits by size. */
  readonly batchSize = 10;
  readonly #options: IntakeDestinationOptions;

  constructor(options: IntakeDestinationOptions) {
    this.#options = options;
    this.label = `intake queue ${options.queueUrl} (message group ${options.messageGroupId})`;
  }

  /** The deduplication id and requestId of a message; the requestId reaches the worker's logs and any dead letter. */
  static messageId(runId: string, message: Pick<PackedMessage, 'firstPosition'>): string {
    return `push-${runId}-${message.firstPosition}`;
  }

  async send(messages: readonly PackedMessage[]): Promise<readonly GatewayRejection[]> {
    const { sqs, queueUrl, messageGroupId, runId } = this.#options;
    const entries: BatchEntry[] = messages.map((m) => {
      const id = IntakeDestination.messageId(runId, m);
      return { body: m.body, attributes: { [ATTR.requestId]: id }, groupId: messageGroupId, dedupId: id };
    });
    // Sequential calls: a later batch of the group must not be accepted before an earlier one.
    for (const batch of packBatches(entries)) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await sendBatch(sqs, queueUrl, pending);
        if (result.senderFault) throw new QueueSendError(`SQS refused a message of the batch starting at position ${messages[0]?.firstPosition ?? 0} (a sender fault: check the queue URL and permissions)`);
        // Failed entries are sent again in their order; the ones that went through are deduplicated if repeated.
        pending = pending.filter((_, i) => result.failed.has(i));
        if (pending.length === 0) break;
        if (attempt >= ATTEMPTS) throw new QueueSendError(`SQS did not take ${pending.length} message(s) after ${attempt} attempts`);
        await sleep(200 * 2 ** attempt);
      }
    }
    return [];
  }
}
