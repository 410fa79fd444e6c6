/**
 * The worker's use case for the intake queue, where other producers send `{"UserAttrs":[...]}` or `{"UserTags":[...]}` messages
 * in their own message groups. Each message is read with the request rules (what they refuse is
 * dead-lettered once its users are in), its valid users are written into their lanes, and only then is it
 * acknowledged: a producer message takes its place in the lanes when it is moved there.
 *
 * Within a producer's group, a message that could not be moved fails with every later message of the
 * group, so the producer's order is kept. Lane messages carry deduplication ids derived from the intake
 * message's id, so a retry within SQS's 5-minute deduplication window adds nothing twice. A retry after
 * it could put parts of the message behind newer work; so a message redelivered more than `retryWindowMs`
 * after its first receive is not written again but goes to the dead-letter queue whole, with its reason.
 */
import { planLaneMessages, planTagLaneMessages } from '../lanes/lane-plan.ts';
import type { AttrNames, DeadLetter, DeadLetters, Lanes, QueueRecord, Redelivery } from '../ports.ts';
import { DONE, judgeInGroupOrder, retryLater, type BatchOutcome } from './fifo-batch.ts';
import { sendLetters } from './send-letters.ts';
import { readRecord, type ReadRecord } from './read-record.ts';
import { sameNames, UNREGISTERED_NAME_RULE } from '../rules/constants.ts';

export interface RelaneDeps {
  readonly attrNames: AttrNames;
  readonly lanes: Lanes;
  readonly deadLetters: DeadLetters;
  readonly redelivery: Redelivery;
  readonly laneCount: number;
  /**
   * How long after its first delivery a message may still be written into lanes. With the worker's timeout
   * and the queue's visibility timeout on top it stays inside SQS's 5-minute deduplication window (config).
   */
  readonly retryWindowMs: number;
  readonly now?: () => number;
}

/** An intake batch's outcome; `deadLettered` counts entries, or whole unreadable messages. */
export interface RelaneOutcome extends BatchOutcome {
  /** Users written into lanes. */
  readonly laned: number;
}

/** Whether the rules refused a name of the record as unregistered. */
const refusesUnregisteredName = (read: ReadRecord): boolean =>
  read.deadLetters.some((l) => l.why.rule === UNREGISTERED_NAME_RULE);

/**
 * Moves one read record: its users into their lanes, then its refused entries into the dead-letter queue.
 * Returns what it moved, or undefined when the record must be retried.
 *
 * The window is decided before anything is written: a lane write after SQS's 5-minute deduplication window
 * would append the users again, behind newer updates of theirs. Past it the whole message is dead-lettered.
 * The letters of refused entries are written only once every lane message is in, so a message whose lanes
 * keep failing does not write its letters again on each retry (a replay would apply them twice).
 */
async function moveRecord(
  deps: RelaneDeps,
  record: QueueRecord,
  read: ReadRecord,
  now: () => number,
): Promise<{ laned: number; deadLettered: number } | undefined> {
  const users = read.users.length + read.tags.length;
  if (users > 0 && now() - record.firstReceivedAt > deps.retryWindowMs) {
    const letter: DeadLetter = {
      raw: record.body,
      why: {
        rule: 'relane-window-exceeded',
        reason: `the message could not be moved into its lanes within ${Math.round(deps.retryWindowMs / 1000)} s of its first delivery (${record.receiveCount} deliveries); writing it later could put its users behind newer updates, so it is kept whole here${read.rejected > 0 ? ` (${read.rejected} of its entries also break the rules)` : ''}`,
        requestId: record.requestId,
        records: [record.id],
      },
    };
    return (await sendLetters(deps.deadLetters, [letter])) ? { laned: 0, deadLettered: read.received } : undefined;
  }
  const messages = [
    ...planLaneMessages(read.users, deps.laneCount, record.id),
    ...planTagLaneMessages(read.tags, deps.laneCount, record.id),
  ];
  try {
    const unsent = await deps.lanes.enqueue(messages, { requestId: record.requestId, origin: 'intake' });
    if (unsent.length > 0) return undefined;
  } catch {
    // Nothing is known to be written: the deduplication ids make the retry safe.
    return undefined;
  }
  return (await sendLetters(deps.deadLetters, read.deadLetters))
    ? { laned: users, deadLettered: read.rejected }
    : undefined;
}

// Short, growing waits: every retry must land well inside the deduplication window.
const retryDelaySeconds = (receiveCount: number): number => Math.min(20, 2 ** Math.max(0, receiveCount - 1));

export async function relaneIntake(deps: RelaneDeps, records: readonly QueueRecord[]): Promise<RelaneOutcome> {
  const now = deps.now ?? Date.now;
  let allowedNames = await deps.attrNames.current();
  let received = 0;
  let laned = 0;
  let deadLettered = 0;

  // One record at a time: each is parsed, laned and released before the next, so a batch of ten 1 MiB
  // producer messages never holds all of them parsed at once (memory at 256 MB); moving one is a few SQS calls.
  const failed = await judgeInGroupOrder(records, async (record) => {
    let read = readRecord(record, allowedNames);
    // A name refused by a list that may be stale (an operator just registered it): read the list again first.
    if (refusesUnregisteredName(read)) {
      const fresh = await deps.attrNames.refresh();
      if (!sameNames(fresh, allowedNames)) read = readRecord(record, (allowedNames = fresh));
    }
    received += read.received;
    const moved = await moveRecord(deps, record, read, now);
    if (moved === undefined) return { done: false, delaySeconds: retryDelaySeconds(record.receiveCount) };
    laned += moved.laned;
    deadLettered += moved.deadLettered;
    return DONE;
  });

  const redeliveryError = await retryLater(deps.redelivery, failed);
  return {
    failedIds: failed.map((f) => f.record.id),
    received,
    laned,
    deadLettered,
    ...(redeliveryError === undefined ? {} : { redeliveryError }),
  };
}
