/**
 * Reading the dead-letter queue without losing anything: letters are received with a visibility timeout (hidden
 * from other readers while the CLI works), then made visible again (`release`) or deleted once replayed.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ATTR } from '../../lib/queue/message-format.ts';
import { queueDepth } from '../../lib/queue/queue-depth.ts';
import { chunk } from '../../lib/core/rules/chunk.ts';

/** SQS batch calls take at most 10 entries. */
const SQS_BATCH = 10;
/** Empty receives in a row before the queue counts as read (a short poll samples only some of SQS's servers). */
const EMPTY_RECEIVES = 3;

/** A dead letter as the worker wrote it (lib/queue/sqs-dead-letters.ts): IM's body, and why as attributes. */
export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly sentAt: Date | undefined;
  readonly rule: string;
  readonly reason: string;
  readonly errorCode: string | undefined;
  readonly errorInfo: string | undefined;
  readonly requestId: string | undefined;
  /**
   * The `UserAttrs` entries (or, for a tags letter, the `UserTags` entries), or undefined when the body is neither
   * shape (e.g. `body-must-be-json`).
   */
  readonly users: readonly unknown[] | undefined;
  /** Which of the two bodies the letter holds. */
  readonly kind: 'attrs' | 'tags';
}

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

function entriesOf(body: string): Pick<DeadLetter, 'users' | 'kind'> {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && 'UserAttrs' in value && Array.isArray(value.UserAttrs))
      return { users: value.UserAttrs as readonly unknown[], kind: 'attrs' };
    if (typeof value === 'object' && value !== null && 'UserTags' in value && Array.isArray(value.UserTags))
      return { users: value.UserTags as readonly unknown[], kind: 'tags' };
  } catch {
    // Not JSON: a letter of an unreadable message, kept as it came.
  }
  return { users: undefined, kind: 'attrs' };
}

function toDeadLetter(message: Message): DeadLetter | undefined {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) return undefined;
  const body = message.Body ?? '';
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body,
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent) : undefined,
    rule: attribute(message, ATTR.rule) ?? '(none)',
    reason: attribute(message, ATTR.reason) ?? '',
    errorCode: attribute(message, ATTR.errorCode),
    errorInfo: attribute(message, ATTR.errorInfo),
    requestId: attribute(message, ATTR.requestId),
    ...entriesOf(body),
  };
}

/**
 * Receives up to `max` dead letters, hiding each for `visibilitySeconds`, oldest first. The caller must release
 * or delete them.
 */
export async function receiveDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  options: { readonly visibilitySeconds: number; readonly max: number },
): Promise<DeadLetter[]> {
  const { visible } = await queueDepth(sqs, queueUrl);
  const letters: DeadLetter[] = [];
  const seen = new Set<string>();
  let empty = 0;
  while (letters.length < Math.min(options.max, visible) && empty < EMPTY_RECEIVES) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(SQS_BATCH, options.max - letters.length),
        VisibilityTimeout: options.visibilitySeconds,
        WaitTimeSeconds: empty === 0 ? 0 : 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    for (const message of Messages) {
      const letter = toDeadLetter(message);
      if (letter !== undefined && !seen.has(letter.messageId)) {
        seen.add(letter.messageId);
        letters.push(letter);
      }
    }
  }
  return letters.sort((a, b) => (a.sentAt?.getTime() ?? 0) - (b.sentAt?.getTime() ?? 0));
}

/** Makes letters visible again at once. */
export async function releaseDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  for (const part of chunk(letters, SQS_BATCH)) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((l, i) => ({ Id: String(i), ReceiptHandle: l.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** Deletes letters; returns how many SQS did not delete. */
export async function deleteDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  letters: readonly DeadLetter[],
): Promise<number> {
  let failed = 0;
  for (const part of chunk(letters, SQS_BATCH)) {
    const answer = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((l, i) => ({ Id: String(i), ReceiptHandle: l.receiptHandle })),
      }),
    );
    failed += answer.Failed?.length ?? 0;
  }
  return failed;
}

/** Letters by `rule` and `ErrorCode`: how many, how many users, and the oldest. */
export interface DeadLetterGroup {
  readonly rule: string;
  readonly errorCode: string | undefined;
  readonly letters: number;
  readonly users: number;
  readonly oldest: Date | undefined;
}

export function groupDeadLetters(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const groups = new Map<
    string,
    { rule: string; errorCode: string | undefined; letters: number; users: number; oldest: Date | undefined }
  >();
  for (const l of letters) {
    const key = `${l.rule}\u0000${l.errorCode ?? ''}`;
    const group = groups.get(key) ?? { rule: l.rule, errorCode: l.errorCode, letters: 0, users: 0, oldest: undefined };
    group.letters++;
    group.users += l.users?.length ?? 0;
    if (l.sentAt !== undefined && (group.oldest === undefined || l.sentAt < group.oldest)) group.oldest = l.sentAt;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.letters - a.letters || a.rule.localeCompare(b.rule));
}
