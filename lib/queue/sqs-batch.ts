import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { messageSize, SQS_MAX_MESSAGE_BYTES, toSqsAttributes, type OutgoingMessage } from './message-format.ts';
import { GatewayError } from '../core/errors.ts';
import { QUEUE_BATCH_MAX } from '../core/ports.ts';

export class QueueSendError extends GatewayError {
  override name = 'QueueSendError';
}

/** A message to send, with the FIFO fields when the queue is FIFO. */
export interface BatchEntry extends OutgoingMessage {
  readonly groupId?: string;
  readonly dedupId?: string;
}

/** Groups entries into SendMessageBatch calls of at most 10 entries and 1 MiB, order kept. */
export function packBatches<T extends OutgoingMessage>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = messageSize(entry);
    if (size > SQS_MAX_MESSAGE_BYTES)
      throw new QueueSendError(`a message of ${size} bytes exceeds SQS's ${SQS_MAX_MESSAGE_BYTES}`);
    if (current.length === QUEUE_BATCH_MAX || bytes + size > SQS_MAX_MESSAGE_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** What one SendMessageBatch call did: the positions that failed, and whether SQS blamed the sender. */
export interface BatchResult {
  readonly failed: ReadonlySet<number>;
  readonly senderFault: boolean;
  /** The failed positions SQS blamed on the sender: sending them again as they are cannot succeed. */
  readonly senderFaults: ReadonlySet<number>;
}

/** One SendMessageBatch call. A call that throws counts as every entry failed. */
export async function sendBatch(
  client: SQSClient,
  queueUrl: string,
  entries: readonly BatchEntry[],
): Promise<BatchResult> {
  const request: SendMessageBatchRequestEntry[] = entries.map((e, i) => ({
    Id: String(i),
    MessageBody: e.body,
    MessageAttributes: toSqsAttributes(e.attributes),
    ...(e.groupId === undefined ? {} : { MessageGroupId: e.groupId }),
    ...(e.dedupId === undefined ? {} : { MessageDeduplicationId: e.dedupId }),
  }));
  try {
    const answer = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: request }));
    const failed = new Set((answer.Failed ?? []).map((f) => Number(f.Id)));
    const senderFaults = new Set((answer.Failed ?? []).filter((f) => f.SenderFault === true).map((f) => Number(f.Id)));
    return { failed, senderFault: senderFaults.size > 0, senderFaults };
  } catch {
    return { failed: new Set(entries.map((_, i) => i)), senderFault: false, senderFaults: new Set() };
  }
}
