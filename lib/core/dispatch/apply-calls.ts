/**
 * Makes IM calls (set and remove, ≤ 100 users each) through the writer and sorts every user into applied,
 * refused or retryable. The writer paces and retries each call; this layer decides what a failure means
 * for the users.
 */
import { isRetryable, WriteRefusedError } from '../errors.ts';
import type { FailedUser, WriteOptions, WriteOutcome, Writer } from '../ports.ts';
import type { DispatchResult, WriteCall } from './types.ts';
import { splitCall, subCall } from './write-call.ts';

export interface ApplyOptions {
  /** Epoch ms: no IM call starts that could not finish by then. */
  readonly deadlineMs?: number;
  /** Epoch ms: no IM call starts after it; what has not started is retryable. */
  readonly startByMs?: number;
  /** Calls started at once; the writer's rate limiter does the pacing. Default 16. */
  readonly concurrency?: number;
  /** Splits a call IM refused as a whole with one of these codes, to find the bad users. Default 90033. */
  readonly bisectCodes?: ReadonlySet<number>;
}

// 90033 "invalid attribute": one bad user fails the whole call, so halving finds it in ≤ 7 levels.
const DEFAULT_BISECT = new Set([90033]);

export async function applyCalls(
  writer: Writer,
  calls: readonly WriteCall[],
  options: ApplyOptions = {},
): Promise<DispatchResult> {
  const applier = new CallApplier(writer, options);
  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency ?? 16, calls.length) }, async () => {
    for (let call = calls[next++]; call !== undefined; call = calls[next++]) await applier.apply(call);
  });
  await Promise.all(workers);
  return applier.result;
}

/** Applies calls one by one and sorts their users into the result. */
class CallApplier {
  readonly result: DispatchResult = { applied: [], refused: [], retryable: [] };
  readonly #writer: Writer;
  readonly #writeOptions: WriteOptions;
  readonly #bisectCodes: ReadonlySet<number>;
  /**
   * After a signature-wrong answer that survived a credentials re-read, or a configuration error, every further
   * call would fail the same way (and push IM toward its 70050 lock-out): no more calls start, the rest is kept.
   */
  #halted: WriteRefusedError | undefined;

  constructor(writer: Writer, options: ApplyOptions) {
    this.#writer = writer;
    this.#bisectCodes = options.bisectCodes ?? DEFAULT_BISECT;
    this.#writeOptions = {
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      ...(options.startByMs === undefined ? {} : { startByMs: options.startByMs }),
    };
  }

  async apply(call: WriteCall): Promise<void> {
    if (call.users.length === 0) return;
    const halted = this.#halted;
    if (halted !== undefined) {
      this.result.retryable.push({ call, errorCode: halted.errorCode, errorInfo: halted.errorInfo, attempted: false });
      return;
    }
    try {
      const { failedUsers } = await this.#write(call);
      if (failedUsers.length === 0) this.result.applied.push(call);
      else this.#partly(call, failedUsers);
    } catch (error) {
      await this.#refused(call, error);
    }
  }

  #write(call: WriteCall): Promise<WriteOutcome> {
    const options = this.#writeOptions;
    switch (call.kind) {
      case 'set':
        return this.#writer.setAttr(call.users, options);
      case 'remove':
        return this.#writer.removeAttr(call.users, options);
      case 'remove-all-tags':
        return this.#writer.removeAllTags(
          call.users.map((u) => u.To_Account),
          options,
        );
      case 'remove-tags':
        return this.#writer.removeTags(call.users, options);
      case 'add-tags':
        return this.#writer.addTags(call.users, options);
    }
  }

  /**
   * Partial success (ErrorList): the listed users failed on their own, the rest were applied. A listed user whose
   * code is worth retrying (e.g. 91000) is retried later, not refused.
   */
  #partly(call: WriteCall, failedUsers: readonly FailedUser[]): void {
    const failedBy = new Map(failedUsers.map((f) => [f.To_Account, f]));
    const applied = subCall(call, (account) => !failedBy.has(account));
    if (applied.users.length > 0) this.result.applied.push(applied);
    for (const [account, { errorCode, errorClass }] of failedBy) {
      const only = subCall(call, (a) => a === account);
      if (only.users.length === 0) continue;
      if (isRetryable(errorClass))
        this.result.retryable.push({
          call: only,
          errorCode,
          errorInfo: `IM failed this user (ErrorCode ${errorCode})`,
          attempted: true,
        });
      else
        this.result.refused.push({ call: only, errorCode, errorInfo: `IM refused this user (ErrorCode ${errorCode})` });
    }
  }

  /** A call refused as a whole: bisected to find the bad users, refused for good, or kept for later. */
  async #refused(call: WriteCall, error: unknown): Promise<void> {
    if (!(error instanceof WriteRefusedError)) {
      // Not a refusal (e.g. the credentials could not be read): nothing is known against these users, so they are
      // kept for later rather than failing the whole dispatch.
      const errorInfo = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      this.result.retryable.push({ call, errorCode: 0, errorInfo, attempted: false });
      return;
    }
    if (error.errorClass === 'permanent') {
      if (call.users.length > 1 && this.#bisectCodes.has(error.errorCode)) {
        const [first, second] = splitCall(call, Math.ceil(call.users.length / 2));
        await Promise.all([this.apply(first), this.apply(second)]);
        return;
      }
      this.result.refused.push({ call, errorCode: error.errorCode, errorInfo: error.errorInfo });
      return;
    }
    // The gateway's configuration (not admin, wrong app or region): every other call would fail alike.
    if (error.errorClass === 'signature-wrong' || error.errorClass === 'configuration') this.#halted ??= error;
    this.result.retryable.push({
      call,
      errorCode: error.errorCode,
      errorInfo: error.errorInfo,
      attempted: error.attempts > 0,
      ...(error.deadlineReached ? { deadlineReached: true } : {}),
    });
  }
}
