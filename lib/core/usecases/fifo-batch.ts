/**
 * The one FIFO partial-batch policy of the worker, for the lanes and the intake alike, shaped like Powertools'
 * `SqsFifoPartialProcessor` with `skipGroupOnError`: records are judged in batch order; the first record of a
 * message group that fails fails every later record of its group (they come back after it, in order), and the
 * other groups go on. A failed record is not left to the queue's visibility timeout: it comes back after the delay
 * its verdict names (`ChangeMessageVisibility` through the `Redelivery` port), and the later records of its group
 * with it.
 *
 * Not the library itself: its processor reports failures to Lambda's partial batch response and nothing more, while
 * the worker needs a delay per failure, and judges a lane batch's records after one merge of the whole batch rather
 * than by handling each record on its own (the policy here is the group walk alone, about 40 lines).
 */
import type { QueueRecord, Redelivery } from '../ports.ts';
import { groupBy } from './group-by.ts';

/** What a worker batch reports, whichever queue it came from. */
export interface BatchOutcome {
  /** Ids of the records to report in `batchItemFailures`: each failing record and the later ones of its group. */
  readonly failedIds: readonly string[];
  /** Entries in the batch's records. */
  readonly received: number;
  /** Entries or users sent to the dead-letter queue. */
  readonly deadLettered: number;
  /** Set when the backoff could not be set: the failed records then wait out the queue's visibility timeout. */
  readonly redeliveryError?: unknown;
}

/** What became of one record: done (acknowledged), or failed and back after `delaySeconds`. */
export type Verdict = { readonly done: true } | { readonly done: false; readonly delaySeconds: number };

export const DONE: Verdict = { done: true };

/** A failed record and when it comes back. */
export interface FailedRecord {
  readonly record: QueueRecord;
  readonly delaySeconds: number;
}

/**
 * Judges the records group by group, each group in batch order: `judge` is asked about a record only while no
 * earlier record of its group failed; after a failure, the rest of the group fails with the same delay, unasked.
 * Groups are walked one after another (a judge that writes, as the intake's does, never runs two at once).
 */
export async function judgeInGroupOrder(
  records: readonly QueueRecord[],
  judge: (record: QueueRecord, index: number) => Verdict | Promise<Verdict>,
): Promise<FailedRecord[]> {
  const failed: FailedRecord[] = [];
  for (const group of groupBy([...records.keys()], (index) => records[index]?.group).values()) {
    let blocked: number | undefined;
    for (const index of group) {
      const record = records[index] as QueueRecord;
      const verdict = blocked === undefined ? await judge(record, index) : { done: false, delaySeconds: blocked };
      if (verdict.done) continue;
      blocked = verdict.delaySeconds;
      failed.push({ record, delaySeconds: blocked });
    }
  }
  return failed;
}

/** Sets each failed record's delay, one call per distinct delay; the error of a call that failed, if any. */
export async function retryLater(redelivery: Redelivery, failed: readonly FailedRecord[]): Promise<unknown> {
  let redeliveryError: unknown;
  for (const [delaySeconds, group] of groupBy(failed, (f) => f.delaySeconds)) {
    try {
      await redelivery.retryLater(
        group.map((f) => f.record),
        delaySeconds,
      );
    } catch (error) {
      redeliveryError = error;
    }
  }
  return redeliveryError;
}
