/**
 * The worker's use case for the intake queue, where other producers send `{"UserAttrs":[...]}` messages
 * in their own message groups. Each message is read with the request rules (what they refuse is
 * dead-lettered), its valid users are written into their lanes, and only then is it acknowledged: a
 * producer message takes its place in the lanes when it is moved there.
 *
 * Within a producer's group, a message that could not be moved fails with every later message of the
 * group, so the producer's order is kept. Lane messages carry deduplication ids derived from the intake
 * message's id, so a retry within SQS's 5-minute deduplication window adds nothing twice. A retry after
 * it could put parts of the message behind newer work; so a message still failing `retryWindowMs` after
 * its first receive goes to the dead-letter queue instead, with its reason.
 */
import { planLaneMessages } from '../lanes/lane-plan.ts';
import type { AttrNames, DeadLetter, DeadLetters, Lanes, QueueRecord, Redelivery } from './ports.ts';
import { groupBy } from './group-by.ts';
import { readRecord } from './read-record.ts';

export interface RelaneDeps {
  readonly attrNames: AttrNames;
  readonly lanes: Lanes;
  readonly deadLetters: DeadLetters;
  readonly redelivery: Redelivery;
  readonly laneCount: number;
  /** Kept well inside SQS's 5-minute deduplication window. */
  readonly retryWindowMs: number;
  readonly now?: () => number;
}

export interface RelaneOutcome {
  readonly failedIds: readonly string[];
  /** Entries in the batch's records. */
  readonly received: number;
  /** Users written into lanes. */
  readonly laned: number;
  /** Entries (or unreadable messages) sent to the dead-letter queue. */
  readonly deadLettered: number;
  readonly redeliveryError?: unknown;
}

// Short, growing waits: every retry must land well inside the deduplication window.
const retryDelaySeconds = (receiveCount: number): number => Math.min(20, 2 ** Math.max(0, receiveCount - 1));

export async function relaneIntake(deps: RelaneDeps, records: readonly QueueRecord[]): Promise<RelaneOutcome> {
  const now = deps.now ?? Date.now;
  const allowedNames = await deps.attrNames.current();
  const failed: QueueRecord[] = [];
  const blockedGroups = new Set<string>();
  let received = 0;
  let laned = 0;
  let deadLettered = 0;

  // One record at a time: each is parsed, laned and released before the next, so a batch of ten 1 MiB
  // producer messages never holds all of them parsed at once (memory at 256 MB); moving one is a few SQS calls.
  for (const group of groupBy(records, (r) => r.group).values()) {
    for (const record of group) {
      if (blockedGroups.has(record.group)) {
        failed.push(record);
        continue;
      }
      const read = readRecord(record, allowedNames);
      received += read.received;
      const messages = planLaneMessages(read.users, deps.laneCount, record.id);
      let unsent = messages;
      let letters: DeadLetter[] = [...read.deadLetters];
      try {
        unsent = [...(await deps.lanes.enqueue(messages, { requestId: record.requestId, origin: 'intake' }))];
      } catch {
        // Nothing is known to be written: the deduplication ids make the retry safe.
      }
      let windowExceeded = 0;
      if (unsent.length > 0 && now() - record.firstReceivedAt > deps.retryWindowMs) {
        windowExceeded = unsent.reduce((n, m) => n + m.users.length, 0);
        letters = [
          ...letters,
          {
            entries: unsent.flatMap((m) => m.users),
            why: {
              rule: 'relane-window-exceeded',
              reason: `these users could not be written into their lanes within ${Math.round(deps.retryWindowMs / 1000)} s of the first delivery; a later retry could put them behind newer updates`,
              requestId: record.requestId,
              records: [record.id],
            },
          },
        ];
        unsent = [];
      }
      let lettersSent = letters.length === 0;
      if (!lettersSent) {
        try {
          await deps.deadLetters.send(letters);
          lettersSent = true;
        } catch {
          lettersSent = false;
        }
      }
      if (unsent.length > 0 || !lettersSent) {
        blockedGroups.add(record.group);
        failed.push(record);
        continue;
      }
      laned += messages.reduce((n, m) => n + m.users.length, 0) - windowExceeded;
      deadLettered += read.rejected + windowExceeded;
    }
  }

  let redeliveryError: unknown;
  for (const [delay, list] of groupBy(failed, (r) => retryDelaySeconds(r.receiveCount))) {
    try {
      await deps.redelivery.retryLater(list, delay);
    } catch (error) {
      redeliveryError = error;
    }
  }
  return { failedIds: failed.map((r) => r.id), received, laned, deadLettered, ...(redeliveryError === undefined ? {} : { redeliveryError }) };
}
