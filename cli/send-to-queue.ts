import type { SQSClient } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { packBatches, QueueSendError, sendBatch, type BatchEntry } from '../lib/queue/sqs-batch.ts';

/** Entries SQS failed are sent again this many times in all, with a growing pause. */
const ATTEMPTS = 5;

/**
 * Sends entries in their order with SendMessageBatch (10 entries, 1 MiB a call), one call at a time so a later
 * entry of a FIFO group is never accepted before an earlier call's. Entries SQS failed are sent again with the
 * same deduplication ids, so one that did go through is dropped as a repeat. `onSent` hears of each entry SQS took.
 * @throws QueueSendError on a sender fault, or when entries still fail after the last attempt.
 */
export async function sendInOrder<T extends BatchEntry>(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly T[],
  onSent: (entry: T) => void = () => undefined,
): Promise<void> {
  for (const batch of packBatches(entries)) {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await sendBatch(sqs, queueUrl, pending);
      for (const [i, entry] of pending.entries()) if (!result.failed.has(i)) onSent(entry);
      pending = pending.filter((_, i) => result.failed.has(i));
      if (pending.length === 0) break;
      if (result.senderFault)
        throw new QueueSendError(
          `SQS refused ${pending.length} message(s) as a sender fault (check the queue URL and the permissions)`,
        );
      if (attempt >= ATTEMPTS)
        throw new QueueSendError(`SQS did not take ${pending.length} message(s) after ${attempt} attempts`);
      await sleep(200 * 2 ** attempt);
    }
  }
}
