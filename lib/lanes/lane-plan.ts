import { createHash } from 'node:crypto';
import { MAX_USERS_PER_CALL } from '../rules/constants.ts';
import type { UserUpdate } from '../rules/types.ts';
import { laneOf } from './lane-of.ts';

/** One message of the lanes queue: at most 100 users of one lane, in the order they were accepted. */
export interface LaneMessage {
  readonly lane: number;
  /** The message's place within its lane for this request (0, 1, …). */
  readonly position: number;
  readonly users: readonly UserUpdate[];
  /**
   * SQS's `MessageDeduplicationId`: derived from the request's key, the lane and the position, so a re-sent
   * request (same `webhook-id`, same intake message) within SQS's 5-minute window adds nothing twice.
   */
  readonly dedupId: string;
}

/**
 * Splits accepted users into lane messages: users grouped by lane (order kept within each lane), each lane
 * cut into messages of at most 100 users, one IM call each.
 *
 * @param key - What identifies the request across re-sends: the `webhook-id`, an `Idempotency-Key`, or
 *   the intake message's id.
 */
export function planLaneMessages(users: readonly UserUpdate[], laneCount: number, key: string): LaneMessage[] {
  const byLane = new Map<number, UserUpdate[]>();
  for (const user of users) {
    const lane = laneOf(user.To_Account, laneCount);
    let list = byLane.get(lane);
    if (list === undefined) byLane.set(lane, (list = []));
    list.push(user);
  }
  const messages: LaneMessage[] = [];
  for (const [lane, list] of [...byLane].sort(([a], [b]) => a - b)) {
    for (let start = 0, position = 0; start < list.length; start += MAX_USERS_PER_CALL, position++) {
      messages.push({ lane, position, users: list.slice(start, start + MAX_USERS_PER_CALL), dedupId: dedupIdOf(key, lane, position) });
    }
  }
  return messages;
}

/** SQS allows 128 characters of `[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`: a hex digest always fits. */
function dedupIdOf(key: string, lane: number, position: number): string {
  return createHash('sha256').update(JSON.stringify([key, lane, position])).digest('hex');
}
