import { sqsSafeJson } from '../../lib/queue/sqs-text.ts';
import type { UserTagOps, UserUpdate } from '../../lib/core/rules/types.ts';

/** One intake message (or webhook body) in IM's shape, and the part of the file it settles. */
export interface PackedMessage {
  /** Position of its first user: with the run's id, its deduplication id (and webhook-id). */
  readonly firstPosition: number;
  /**
   * The last position it settles: every position up to here is in this message or an earlier one, or was
   * rejected. A checkpoint after sending it resumes after this position.
   */
  readonly lastPosition: number;
  /** Positions of its users, in order (to map a gateway's `UserAttrs[i]` back to the file). */
  readonly positions: readonly number[];
  readonly body: string;
}

/** `{"UserAttrs":[` + `]}` (and `,"UserTags":[]`): the bytes a body adds to its users. */
const ENVELOPE_BYTES = '{"UserAttrs":[],"UserTags":[]}'.length;

/**
 * Packs checked users into bodies of at most `maxBodyBytes`, in file order. Users are serialized once, as the
 * gateway's queues write them (`sqsSafeJson`). Duplicated accounts are left for the gateway to merge: with the
 * app's 10 names, a merge cannot break a rule.
 */
export class MessagePacker {
  readonly #maxBodyBytes: number;
  #parts: string[] = [];
  #tagParts: string[] = [];
  #positions: number[] = [];
  #bytes = ENVELOPE_BYTES;
  #lastSeen = 0;
  readonly #closed: PackedMessage[] = [];
  readonly #onClose: () => void;

  /** `onClose` runs as each message closes, when every position before the next user is settled. */
  constructor(maxBodyBytes: number, onClose: () => void) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#onClose = onClose;
  }

  /**
   * Adds a user's attribute updates and/or tag operations; closes the open message first when they would not fit.
   * A body carries both as `{"UserAttrs":[…],"UserTags":[…]}` (the intake reads both; a user's attributes and tags
   * are apart in IM, so only each list's own order matters).
   */
  add(position: number, user: UserUpdate | undefined, tags?: UserTagOps): void {
    const json = user === undefined ? undefined : sqsSafeJson(user);
    const tagJson = tags === undefined ? undefined : sqsSafeJson(tags);
    const bytes =
      (json === undefined ? 0 : Buffer.byteLength(json) + 1) +
      (tagJson === undefined ? 0 : Buffer.byteLength(tagJson) + 1);
    if (!this.openEmpty && this.#bytes + bytes > this.#maxBodyBytes) this.#close(position - 1);
    if (json !== undefined) this.#parts.push(json);
    if (tagJson !== undefined) this.#tagParts.push(tagJson);
    this.#positions.push(position);
    this.#bytes += bytes;
    this.#lastSeen = position;
  }

  /** Notes a position that added no user (rejected), so the message closing after it settles it too. */
  skip(position: number): void {
    this.#lastSeen = position;
  }

  /** Messages closed so far; they leave the packer. */
  takeClosed(): PackedMessage[] {
    return this.#closed.splice(0);
  }

  get closedCount(): number {
    return this.#closed.length;
  }

  /** Whether the open message holds no user yet. */
  get openEmpty(): boolean {
    return this.#parts.length === 0 && this.#tagParts.length === 0;
  }

  /** Closes the open message at the end of the file, settling every position read. */
  finish(): void {
    if (!this.openEmpty) this.#close(this.#lastSeen);
  }

  #close(lastPosition: number): void {
    this.#closed.push({
      firstPosition: this.#positions[0] ?? lastPosition,
      lastPosition,
      positions: this.#positions,
      body:
        this.#tagParts.length === 0
          ? `{"UserAttrs":[${this.#parts.join(',')}]}`
          : `{"UserAttrs":[${this.#parts.join(',')}],"UserTags":[${this.#tagParts.join(',')}]}`,
    });
    this.#onClose();
    this.#parts = [];
    this.#tagParts = [];
    this.#positions = [];
    this.#bytes = ENVELOPE_BYTES;
  }
}
