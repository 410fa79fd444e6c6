import type { SQSClient } from '@aws-sdk/client-sqs';
import { laneGroupId } from '../core/lanes/lane-of.ts';
import type { LaneMessage } from '../core/lanes/lane-plan.ts';
import type { LaneMeta, Lanes } from '../core/ports.ts';
import { ATTR, laneBody } from './message-format.ts';
import { packBatches, sendBatch, type BatchEntry } from './sqs-batch.ts';

export interface SqsLanesOptions {
  readonly client: SQSClient;
  /** The FIFO lanes queue. */
  readonly queueUrl: string;
  /** Attempts per message before its lane gives up. Default 3. */
  readonly attempts?: number;
}

/**
 * The lanes on an SQS FIFO queue: a lane is a message group. Messages are sent in rounds holding at most
 * one message per lane (the head of each), so a failed entry never has a later message of its lane beside
 * it in the same call that might succeed: a lane stops at its first message that could not be written.
 */
export class SqsLanes implements Lanes {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #attempts: number;

  constructor(options: SqsLanesOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#attempts = options.attempts ?? 3;
  }

  async enqueue(messages: readonly LaneMessage[], meta: LaneMeta): Promise<readonly LaneMessage[]> {
    const pending = new Map<number, { list: LaneMessage[]; failures: number }>();
    for (const message of messages) {
      const lane = pending.get(message.lane) ?? { list: [], failures: 0 };
      lane.list.push(message);
      pending.set(message.lane, lane);
    }
    const unsent: LaneMessage[] = [];
    const giveUp = (laneId: number): void => {
      unsent.push(...(pending.get(laneId)?.list ?? []));
      pending.delete(laneId);
    };
    while (pending.size > 0) {
      const heads = [...pending].map(([lane, { list }]) => ({ lane, entry: toEntry(list[0] as LaneMessage, meta) }));
      let batches: (typeof heads)[];
      try {
        batches = packBatches(heads.map((h) => ({ ...h.entry, lane: h.lane }))).map((b) =>
          b.map((e) => ({ lane: e.lane, entry: e })),
        );
      } catch {
        // A message over SQS's size limit: nothing of this request can be written in order.
        for (const { lane } of heads) giveUp(lane);
        break;
      }
      const results = await Promise.all(
        batches.map((batch) =>
          sendBatch(
            this.#client,
            this.#queueUrl,
            batch.map((b) => b.entry),
          ),
        ),
      );
      batches.forEach((batch, b) => {
        const result = results[b];
        batch.forEach(({ lane }, i) => {
          const state = pending.get(lane);
          if (state === undefined || result === undefined) return;
          if (!result.failed.has(i)) {
            state.list.shift();
            state.failures = 0;
            if (state.list.length === 0) pending.delete(lane);
            return;
          }
          state.failures += 1;
          if (result.senderFault || state.failures >= this.#attempts) giveUp(lane);
        });
      });
    }
    return unsent;
  }
}

function toEntry(message: LaneMessage, meta: LaneMeta): BatchEntry {
  return {
    body: laneBody(message),
    attributes: { [ATTR.requestId]: meta.requestId, [ATTR.origin]: meta.origin },
    groupId: laneGroupId(message.lane),
    dedupId: message.dedupId,
  };
}
