import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageSize, SQS_MAX_MESSAGE_BYTES, toSqsAttributes, type OutgoingMessage } from './message-format.ts';

export class QueuePublishError extends Error {
  override readonly name = 'QueuePublishError';
  readonly failedCount: number;
  constructor(message: string, failedCount: number, options?: ErrorOptions) {
    super(message, options);
    this.failedCount = failedCount;
  }
}

export interface QueuePublisherOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Attempts for entries SQS reports failed within a batch (e.g. throttling). Default 3. */
  readonly attempts?: number;
}

// SQS's SendMessageBatch limits: 10 entries and 1 MiB in all.
const MAX_ENTRIES = 10;

/** Sends messages with SendMessageBatch, packed by count and by size; entries that fail are sent again, and what still fails throws. */
export class QueuePublisher {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #attempts: number;

  constructor(options: QueuePublisherOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#attempts = options.attempts ?? 3;
  }

  get queueUrl(): string {
    return this.#queueUrl;
  }

  /** Sends every message or throws QueuePublishError: a caller never believes a message is queued when it is not. */
  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (const batch of packBatches(messages)) await this.#sendBatch(batch);
  }

  async #sendBatch(batch: readonly OutgoingMessage[]): Promise<void> {
    let pending = batch.map((message, i) => ({ id: String(i), message }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answer = await this.#client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: pending.map(({ id, message }) => ({ Id: id, MessageBody: message.body, MessageAttributes: toSqsAttributes(message.attributes) })),
        }),
      );
      const failed = new Set((answer.Failed ?? []).map((f) => f.Id));
      const senderFault = (answer.Failed ?? []).find((f) => f.SenderFault === true);
      if (senderFault !== undefined) throw new QueuePublishError(`SQS refused a message: ${senderFault.Code ?? 'unknown'}`, failed.size);
      pending = pending.filter(({ id }) => failed.has(id));
      if (pending.length > 0 && attempt >= this.#attempts) {
        throw new QueuePublishError(`SQS failed ${pending.length} messages after ${attempt} attempts`, pending.length);
      }
    }
  }
}

/** Groups messages into SendMessageBatch calls of at most 10 entries and 1 MiB. */
export function packBatches(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const batches: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageSize(message);
    if (size > SQS_MAX_MESSAGE_BYTES) throw new QueuePublishError(`a message of ${size} bytes exceeds SQS's ${SQS_MAX_MESSAGE_BYTES}`, 1);
    if (current.length === MAX_ENTRIES || bytes + size > SQS_MAX_MESSAGE_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
