/**
 * Every port of the core, in the core's own words: what `acceptWebhook`, `processLanes`, `processLaneBatch` and
 * `relaneIntake` need from the outside world, and nothing of how it is done. SQS, DynamoDB and IM live in
 * adapters (lib/queue, lib/idempotency, lib/im); tests hand in in-memory fakes.
 */
import type { RetryClass } from './errors.ts';
import type { LaneMessage } from './lanes/lane-plan.ts';
import type { UserAttr, UserAttrRemoval, UserTagList } from './rules/types.ts';

/** Per-call options of the writer. */
export interface WriteOptions {
  /** Epoch ms by which the call must be over: no attempt starts that could not finish by then. */
  readonly deadlineMs?: number;
  /**
   * Epoch ms after which no attempt may start, whatever the deadline: a caller with its own short wait (the
   * API's early write, `apiInlineWaitMs`) gives the call up then, and leaves it to the lanes.
   */
  readonly startByMs?: number;
}

/** A user the writer refused on their own while the rest of the call was applied. */
export interface FailedUser {
  readonly To_Account: string;
  readonly errorCode: number;
  readonly errorClass: RetryClass;
}

/** What the writer answered for a call on many users: the listed users failed on their own, the rest were applied. */
export interface WriteOutcome {
  readonly failedUsers: readonly FailedUser[];
}

/**
 * The attribute writes, paced and retried (IM's `im_set_attr`, `im_remove_attr`; ≤ 100 users a call). A call
 * refused as a whole throws a `WriteRefusedError` (core/errors.ts) carrying its code and retry class; anything
 * else thrown means nothing is known about the call.
 */
export interface AttrWriter {
  setAttr(users: readonly UserAttr[], options?: WriteOptions): Promise<WriteOutcome>;
  removeAttr(users: readonly UserAttrRemoval[], options?: WriteOptions): Promise<WriteOutcome>;
}

/**
 * The tag writes, paced and retried like the attribute writes (IM's `im_add_tag`, `im_remove_tag`,
 * `im_remove_all_tags`, docs 269/45941–45943; ≤ 100 users a call, an add ≤ 10 tags a user), with the same
 * answers: failed users in the outcome, a call refused as a whole thrown as a `WriteRefusedError`.
 */
export interface TagWriter {
  addTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome>;
  removeTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome>;
  removeAllTags(accounts: readonly string[], options?: WriteOptions): Promise<WriteOutcome>;
}

/** Every write the lanes apply: attributes and tags. */
export interface Writer extends AttrWriter, TagWriter {}

/** The app's registered attribute names, or undefined when unknown (IM then enforces them itself). */
export interface AttrNames {
  current(): Promise<ReadonlySet<string> | undefined>;
  /** Whether `current()` would answer now without asking IM (names given, or learned and still fresh). */
  known(): boolean;
  /**
   * Reads the names from IM again before a user is refused for a name they lack, at most once per 10 s per copy
   * (an operator who just registered the name and replays at once must not see the old list). Returns the same
   * set as `current()` when nothing was read again.
   */
  refresh(): Promise<ReadonlySet<string> | undefined>;
  /**
   * Epoch ms of the last read from IM, and of the next one `refresh()` may make; undefined for names given in
   * config (always current). A record that arrived after the last read is not refused for a name before the next.
   */
  reads(): { readonly lastMs: number; readonly nextMs: number } | undefined;
}

/** Where a lane message came from, for logs and dead letters. */
export interface LaneMeta {
  readonly requestId: string;
  /** `api`, `intake`, … */
  readonly origin: string;
}

/** The ordered lanes (a FIFO queue, one message group per lane). */
export interface Lanes {
  /**
   * Writes messages into their lanes, in order within each lane. A lane stops at its first message that
   * could not be written, so a retry never puts a later message ahead of an earlier one.
   * @returns the messages not written (empty when all were).
   */
  enqueue(messages: readonly LaneMessage[], meta: LaneMeta): Promise<readonly LaneMessage[]>;
}

/** The most entries in one queue batch (a receive, a send, a delete, a visibility change): SQS's limit. */
export const QUEUE_BATCH_MAX = 10;

/** A record as the use cases see it: a message of the lanes or intake queue. */
export interface QueueRecord {
  readonly id: string;
  /** Opaque handle for the queue adapter (SQS receipt handle). */
  readonly receipt: string;
  /** The message group: a lane (`lane-7`) or a producer's group. */
  readonly group: string;
  readonly body: string;
  readonly receiveCount: number;
  /** Epoch ms of the first receive: how long the record has been failing. */
  readonly firstReceivedAt: number;
  readonly requestId: string;
}

/**
 * More records of the lanes, received by the worker itself beyond its event-source batch (which holds at most 10).
 * SQS returns nothing from a message group while one of its messages is in flight, so a received record is always
 * its lane's head.
 */
export interface LaneSource {
  /** Up to `max` (≤ 10) records available now, without waiting; none when no lane has one ready. */
  receive(max: number): Promise<readonly QueueRecord[]>;
  /**
   * Deletes records the worker finished (IM confirmed them, or they were dead-lettered).
   * @returns the ids it could not delete: they come back after the visibility timeout, still at their lane's head.
   */
  delete(records: readonly QueueRecord[]): Promise<readonly string[]>;
}

/** Failed records come back after a delay the worker chooses (backoff), not the queue's visibility timeout. */
export interface Redelivery {
  retryLater(records: readonly QueueRecord[], delaySeconds: number): Promise<void>;
}

/** Why a dead letter was written: every dead letter carries its reason. */
export interface DeadLetterReason {
  /** A stable name: a request rule (`attr-name-unregistered`), `im-error-<code>`, `outage-tolerance-exceeded`, … */
  readonly rule: string;
  /** Sentences naming the fields and the cause; never a value. */
  readonly reason: string;
  readonly requestId: string;
  readonly errorCode?: number;
  readonly errorInfo?: string;
  /** Ids of the queue records the users came from. */
  readonly records?: readonly string[];
}

/**
 * A dead letter: entries in the shape they were taken in (replayable), `{"UserAttrs":[...]}` or, with `tags`,
 * `{"UserTags":[...]}`; or a raw body that could not be read.
 */
export type DeadLetter =
  | { readonly entries: readonly unknown[]; readonly tags?: true; readonly why: DeadLetterReason }
  | { readonly raw: string; readonly why: DeadLetterReason };

/** The dead-letter queue. Throws when a letter could not be written (the records then stay for a retry). */
export interface DeadLetters {
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/** A stored answer to a request that was already handled. */
export interface StoredAnswer {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What identifies a request across re-sends, and what it carried. */
export interface IdempotencyKey {
  /** `webhook-id` or `Idempotency-Key`. */
  readonly id: string;
  /** SHA-256 of the body: the same id with another body is refused, never answered with the other's result. */
  readonly bodyHash: string;
}

/**
 * Re-deliveries of one request are answered, not re-applied, fleet-wide. Only answers the caller may keep
 * (2xx) are stored; a request whose work failed runs again when re-sent.
 */
export interface Idempotency {
  /**
   * Runs `work` once per key: a completed key gets its stored answer; a key in progress throws
   * `RequestInProgressError`; the same id with another body throws `RequestKeyReusedError`.
   * `work` returns `{ answer, store }`: the answer is stored only when `store` is true. An answer not stored
   * frees the key after a 4xx (nothing was accepted) and keeps it bound to its body after a 5xx (some users
   * may be in their lanes): a re-send of that body runs again, another body is refused.
   */
  once(
    key: IdempotencyKey,
    remainingMs: number,
    work: () => Promise<{ answer: StoredAnswer; store: boolean }>,
  ): Promise<StoredAnswer>;
  /** The stored answer of a completed request with this key and body, or undefined. */
  completed(key: IdempotencyKey): Promise<StoredAnswer | undefined>;
}
