import { sqsSafeJson } from '../../lib/queue/sqs-text.ts';
import type { UserUpdate } from '../../lib/core/rules/types.ts';

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

/** `{"UserAttrs":[` + `]}`: the bytes a body adds to its users. */
const ENVELOPE_BYTES = '{"UserAttrs":[]}'.length;

/**
 * Packs checked users into bodies of at most `maxBodyBytes`, in file order. Users are serialized once, as the
 * gateway's queues write them (`sqsSafeJson`). Duplicated accounts are left for the gateway to merge: with the
 * app's 10 names, a merge cannot break a rule.
 */
export class MessagePacker {
  readonly #maxBodyBytes: number;
  #parts: string[] = [];
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

  /** Adds a user; closes the open message first when the user would not fit in it. */
  add(position: number, user: UserUpdate): void {
    const json = sqsSafeJson(user);
    const bytes = Buffer.byteLength(json) + 1;
    if (this.#parts.length > 0 && this.#bytes + bytes > this.#maxBodyBytes) this.#close(position - 1);
    this.#parts.push(json);
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
    return this.#parts.length === 0;
  }

  /** Closes the open message at the end of the file, settling every position read. */
  finish(): void {
    if (this.#parts.length > 0) this.#close(this.#lastSeen);
  }

  #close(lastPosition: number): void {
    this.#closed.push({
      firstPosition: this.#positions[0] ?? lastPosition,
      lastPosition,
      positions: this.#positions,
      body: `{"UserAttrs":[${this.#parts.join(',')}]}`,
    });
    this.#onClose();
    this.#parts = [];
    this.#positions = [];
    this.#bytes = ENVELOPE_BYTES;
  }
}
