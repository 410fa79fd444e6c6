import { createHash } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetters } from '../core/ports.ts';
import {
  ATTR,
  messageSize,
  SQS_MAX_MESSAGE_BYTES,
  userTagsBody,
  userUpdatesBody,
  type OutgoingMessage,
} from './message-format.ts';
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
 * SQS's size limit is split, so a letter larger than the record it came from can still be written; what
 * cannot be split (a raw body, or one entry) is cut to fit, and the letter says so (see {@link cutToFit}).
 * So any message can be dead-lettered: a letter never fails for its size, and a poison message cannot hold
 * its message group until the queue's retention ends.
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
        // A letter SQS refuses as the sender's fault would be refused on every retry, holding its record's
        // group for good: it goes again once without its body, keeping its reason, size and hash.
        const next = pending.flatMap((message, i) => {
          if (!result.failed.has(i)) return [];
          if (!result.senderFaults.has(i)) return [message];
          if (isBare(message)) throw new QueueSendError('SQS refused a dead letter even without its body');
          return [bare(message)];
        });
        pending = next;
        if (pending.length > 0 && attempt >= this.#attempts)
          throw new QueueSendError(`SQS failed ${pending.length} dead letters after ${attempt} attempts`);
      }
    }
  }
}

const BARE_BODY = '(the body was not kept: SQS refused the letter with it)';
const isBare = (message: OutgoingMessage): boolean => message.body === BARE_BODY;

/** The letter without its body: its reason, and the body's size and hash to find and compare it by. */
function bare(message: OutgoingMessage): OutgoingMessage {
  const bytes = Buffer.from(message.body, 'utf8');
  return {
    body: BARE_BODY,
    attributes: {
      ...message.attributes,
      [ATTR.bodyBytes]: message.attributes[ATTR.bodyBytes] ?? String(bytes.length),
      [ATTR.bodySha256]: message.attributes[ATTR.bodySha256] ?? createHash('sha256').update(bytes).digest('hex'),
    },
  };
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
  if ('raw' in letter) return [cutToFit({ body: letter.raw, attributes })];
  const split = (entries: readonly unknown[]): OutgoingMessage[] => {
    const message = { body: letter.tags === true ? userTagsBody(entries) : userUpdatesBody(entries), attributes };
    if (messageSize(message) <= SQS_MAX_MESSAGE_BYTES) return [message];
    if (entries.length <= 1) return [cutToFit(message)];
    const half = Math.ceil(entries.length / 2);
    return [...split(entries.slice(0, half)), ...split(entries.slice(half))];
  };
  return split(letter.entries);
}

/**
 * A message over SQS's limit keeps its rule and reason and carries the start of its body, cut at a character
 * boundary, with the whole body's byte length and SHA-256: enough to find the producer's message and tell
 * whether a copy of it is the same, never enough to be replayed by mistake (the cut body is not JSON).
 */
function cutToFit(message: OutgoingMessage): OutgoingMessage {
  if (messageSize(message) <= SQS_MAX_MESSAGE_BYTES) return message;
  const bytes = Buffer.from(message.body, 'utf8');
  const attributes = {
    ...message.attributes,
    [ATTR.bodyBytes]: String(bytes.length),
    [ATTR.bodySha256]: createHash('sha256').update(bytes).digest('hex'),
  };
  const room = SQS_MAX_MESSAGE_BYTES - messageSize({ body: '', attributes });
  let end = Math.max(0, Math.min(bytes.length, room));
  // Back off to the first byte of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end > 0 && end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { body: bytes.subarray(0, end).toString('utf8'), attributes };
}
