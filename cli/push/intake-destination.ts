import type { SQSClient } from '@aws-sdk/client-sqs';
import { ATTR } from '../../lib/queue/message-format.ts';
import type { BatchEntry } from '../../lib/queue/sqs-batch.ts';
import { sendInOrder } from '../send-to-queue.ts';
import type { Destination, GatewayRejection } from './destination.ts';
import type { PackedMessage } from './message-packer.ts';

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
  /** The intake reads `UserAttrs` and `UserTags` of one message. */
  readonly takesTags = true;
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
    await sendInOrder(sqs, queueUrl, entries);
    return [];
  }
}
