import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetters } from '../usecases/ports.ts';
import { ATTR, messageSize, SQS_MAX_MESSAGE_BYTES, userUpdatesBody, type OutgoingMessage } from './message-format.ts';
import { packBatches, QueueSendError, sendBatch } from './sqs-batch.ts';
import { sqsSafeText } from './sqs-text.ts';

/** Reasons are for people; attributes stay small so the users, not the prose, fill the message. */
const MAX_REASON_CHARS = 1000;

export interface SqsDeadLettersOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Attempts per message. Default 3. */
  readonly attempts?: number;
}

/**
 * The dead-letter queue (standard). Every letter carries its reason as message attributes. A letter over
 * SQS's size limit is split, so a letter larger than the record it came from can still be written.
 */
export class SqsDeadLetters implements DeadLetters {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #attempts: number;

  constructor(options: SqsDeadLettersOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#attempts = options.attempts ?? 3;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const messages = letters.flatMap(toMessages);
    for (const batch of packBatches(messages)) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await sendBatch(this.#client, this.#queueUrl, pending);
        if (result.senderFault) throw new QueueSendError('SQS refused a dead letter');
        pending = pending.filter((_, i) => result.failed.has(i));
        if (pending.length > 0 && attempt >= this.#attempts) throw new QueueSendError(`SQS failed ${pending.length} dead letters after ${attempt} attempts`);
      }
    }
  }
}

function attributesOf(letter: DeadLetter): Record<string, string> {
  const { why } = letter;
  return {
    [ATTR.rule]: sqsSafeText(why.rule, 256),
    [ATTR.reason]: sqsSafeText(why.reason, MAX_REASON_CHARS),
    [ATTR.requestId]: sqsSafeText(why.requestId, 256),
    ...(why.errorCode === undefined ? {} : { [ATTR.errorCode]: String(why.errorCode) }),
    ...(why.errorInfo === undefined ? {} : { [ATTR.errorInfo]: sqsSafeText(why.errorInfo, MAX_REASON_CHARS) }),
    ...(why.records === undefined ? {} : { [ATTR.records]: sqsSafeText(why.records.join(','), MAX_REASON_CHARS) }),
  };
}

/** One message per letter, or several halves of its entries when one message would be over the limit. */
function toMessages(letter: DeadLetter): OutgoingMessage[] {
  const attributes = attributesOf(letter);
  if ('raw' in letter) return [{ body: letter.raw, attributes }];
  const split = (entries: readonly unknown[]): OutgoingMessage[] => {
    const message = { body: userUpdatesBody(entries), attributes };
    if (messageSize(message) <= SQS_MAX_MESSAGE_BYTES || entries.length <= 1) return [message];
    const half = Math.ceil(entries.length / 2);
    return [...split(entries.slice(0, half)), ...split(entries.slice(half))];
  };
  return split(letter.entries);
}
