import { createHash } from 'node:crypto';
import type { UserTagOps, UserUpdate } from '../rules/types.ts';
import { laneOf } from './lane-of.ts';

/**
 * A lane message holds up to 2,500 users and stays under SQS's 1 MiB (by an upper bound of its size). Large
 * messages let the worker merge: a batch of 10 records of one lane then spans up to 10 requests, so repeated
 * updates of the same users collapse into one call per 100 users (bench/merge.bench.ts: 200,000 updates of
 * 20,000 users cost 1.045 × the calls of the distinct users with 20 lanes; with 100-user messages merging
 * could never span more than 1,000 users). A batch of 10 such records is at most 250 calls: about 13 s at a
 * copy's pace with 5 copies, 26 s with 10. What cannot start before the deadline fails with the rest of its
 * lane and comes back at once, so a slow batch costs time, never order.
 */
export const LANE_MESSAGE_LIMITS = { maxUsers: 2500, maxBytes: 900_000 } as const;

/**
 * One message of the lanes queue: users of one lane, in the order they were accepted; either attribute updates
 * (`users`, body `{"UserAttrs":[…]}`) or tag operations (`tags`, body `{"UserTags":[…]}`, with `users` empty).
 * A user's attributes and tags are apart in IM, so only each kind's own order matters, and the lane keeps both.
 */
export interface LaneMessage {
  readonly lane: number;
  /** The message's place within its lane for this request (0, 1, …). */
  readonly position: number;
  readonly users: readonly UserUpdate[];
  readonly tags?: readonly UserTagOps[];
  /**
   * SQS's `MessageDeduplicationId`: derived from the request's key, the lane, the position and the message's
   * content, so a re-sent request (same `webhook-id`, same intake message, same body) within SQS's 5-minute
   * window adds nothing twice, while other content under the same key (another body, or the same body read
   * under changed attribute names) is never dropped as a duplicate.
   */
  readonly dedupId: string;
}

/**
 * Splits accepted users into lane messages: users grouped by lane (order kept within each lane), each lane
 * cut into messages of at most `maxUsers` users and `maxBytes` bytes.
 *
 * @param key - What identifies the request across re-sends: the `webhook-id`, an `Idempotency-Key`, or
 *   the intake message's id.
 */
export function planLaneMessages(
  users: readonly UserUpdate[],
  laneCount: number,
  key: string,
  limits: { readonly maxUsers: number; readonly maxBytes: number } = LANE_MESSAGE_LIMITS,
): LaneMessage[] {
  return planEntries(users, laneCount, limits, maxJsonBytes, (lane, position, list) => ({
    lane,
    position,
    users: list,
    dedupId: dedupIdOf(key, lane, position, list),
  }));
}

/** The same for users' tag operations (a request's entries composed per user, rules/tag-entry.ts). */
export function planTagLaneMessages(
  tags: readonly UserTagOps[],
  laneCount: number,
  key: string,
  limits: { readonly maxUsers: number; readonly maxBytes: number } = LANE_MESSAGE_LIMITS,
): LaneMessage[] {
  return planEntries(tags, laneCount, limits, maxTagJsonBytes, (lane, position, list) => ({
    lane,
    position,
    users: [],
    tags: list,
    dedupId: dedupIdOf(`${key}\u0000tags`, lane, position, list),
  }));
}

/** Users or tag entries in a lane message: what its body carries. */
export function entriesIn(message: LaneMessage): number {
  return message.users.length + (message.tags?.length ?? 0);
}

function planEntries<E extends { readonly To_Account: string }>(
  entries: readonly E[],
  laneCount: number,
  limits: { readonly maxUsers: number; readonly maxBytes: number },
  sizeOf: (entry: E) => number,
  make: (lane: number, position: number, list: E[]) => LaneMessage,
): LaneMessage[] {
  const byLane = new Map<number, E[]>();
  for (const entry of entries) {
    const lane = laneOf(entry.To_Account, laneCount);
    let list = byLane.get(lane);
    if (list === undefined) byLane.set(lane, (list = []));
    list.push(entry);
  }
  const messages: LaneMessage[] = [];
  for (const [lane, list] of [...byLane].sort(([a], [b]) => a - b)) {
    let current: E[] = [];
    let bytes = 0;
    const close = (): void => {
      const position =
        messages.length === 0 || messages.at(-1)?.lane !== lane ? 0 : (messages.at(-1)?.position ?? -1) + 1;
      messages.push(make(lane, position, current));
      current = [];
      bytes = 0;
    };
    for (const entry of list) {
      const size = sizeOf(entry);
      if (current.length > 0 && (current.length >= limits.maxUsers || bytes + size > limits.maxBytes)) close();
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) close();
  }
  return messages;
}

/**
 * An upper bound of a user's bytes in the message body, without serialising it: a UTF-16 unit takes at most
 * 6 bytes in the JSON the queue carries (`\u001f`), and the punctuation around each field is counted.
 */
function maxJsonBytes(user: UserUpdate): number {
  let units = user.To_Account.length + 32;
  for (const name in user.Attrs) units += name.length + (user.Attrs[name]?.length ?? 4) + 6;
  return units * 6;
}

/** The same bound for a tags entry. */
function maxTagJsonBytes(entry: UserTagOps): number {
  let units = entry.To_Account.length + 48;
  for (const tag of [...(entry.Remove ?? []), ...(entry.Add ?? [])]) units += tag.length + 3;
  return units * 6;
}

/** SQS allows 128 characters of `[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`: a hex digest always fits. */
function dedupIdOf(
  key: string,
  lane: number,
  position: number,
  users: readonly UserUpdate[] | readonly UserTagOps[],
): string {
  return createHash('sha256')
    .update(JSON.stringify([key, lane, position]))
    .update(JSON.stringify(users))
    .digest('hex');
}
