/**
 * Makes IM calls (set and remove, ≤ 100 users each) through the writer and sorts every user into applied,
 * refused or retryable. The writer paces and retries each call; this layer decides what a failure means
 * for the users.
 */
import { isRetryable, WriteRefusedError } from '../errors.ts';
import type { AttrWriter, WriteOptions } from '../ports.ts';
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
  writer: AttrWriter,
  calls: readonly WriteCall[],
  options: ApplyOptions = {},
): Promise<DispatchResult> {
  const result: DispatchResult = { applied: [], refused: [], retryable: [] };
  const bisectCodes = options.bisectCodes ?? DEFAULT_BISECT;
  const writeOptions: WriteOptions = {
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    ...(options.startByMs === undefined ? {} : { startByMs: options.startByMs }),
  };
  // After a signature-wrong answer that survived a credentials re-read, or a configuration error, every further
  // call would fail the same way (and push IM toward its 70050 lock-out): stop starting calls, keep the rest for later.
  let halted: WriteRefusedError | undefined;

  const send = (call: WriteCall) =>
    call.kind === 'set' ? writer.setAttr(call.users, writeOptions) : writer.removeAttr(call.users, writeOptions);

  const applyOne = async (call: WriteCall): Promise<void> => {
    if (call.users.length === 0) return;
    if (halted !== undefined) {
      result.retryable.push({ call, errorCode: halted.errorCode, errorInfo: halted.errorInfo, attempted: false });
      return;
    }
    try {
      const { failedUsers } = await send(call);
      if (failedUsers.length === 0) {
        result.applied.push(call);
        return;
      }
      // Partial success (ErrorList): the listed users failed on their own, the rest were applied. A listed
      // user whose code is worth retrying (e.g. 91000) is retried later, not refused.
      const failedBy = new Map(failedUsers.map((f) => [f.To_Account, f]));
      const applied = subCall(call, (account) => !failedBy.has(account));
      if (applied.users.length > 0) result.applied.push(applied);
      for (const [account, { errorCode: code, errorClass }] of failedBy) {
        const only = subCall(call, (a) => a === account);
        if (only.users.length === 0) continue;
        if (isRetryable(errorClass))
          result.retryable.push({
            call: only,
            errorCode: code,
            errorInfo: `IM failed this user (ErrorCode ${code})`,
            attempted: true,
          });
        else
          result.refused.push({ call: only, errorCode: code, errorInfo: `IM refused this user (ErrorCode ${code})` });
      }
    } catch (error) {
      if (!(error instanceof WriteRefusedError)) {
        // Not a refusal (e.g. the credentials could not be read): nothing is known against these
        // users, so they are kept for later rather than failing the whole dispatch.
        result.retryable.push({
          call,
          errorCode: 0,
          errorInfo: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error',
          attempted: false,
        });
        return;
      }
      if (error.errorClass === 'permanent') {
        if (call.users.length > 1 && bisectCodes.has(error.errorCode)) {
          const [first, second] = splitCall(call, Math.ceil(call.users.length / 2));
          await Promise.all([applyOne(first), applyOne(second)]);
          return;
        }
        result.refused.push({ call, errorCode: error.errorCode, errorInfo: error.errorInfo });
        return;
      }
      // The gateway's configuration (not admin, wrong app or region): every other call would fail alike.
      if (error.errorClass === 'signature-wrong' || error.errorClass === 'configuration') halted ??= error;
      result.retryable.push({
        call,
        errorCode: error.errorCode,
        errorInfo: error.errorInfo,
        attempted: error.attempts > 0,
        ...(error.deadlineReached ? { deadlineReached: true } : {}),
      });
    }
  };

  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency ?? 16, calls.length) }, async () => {
    for (let call = calls[next++]; call !== undefined; call = calls[next++]) await applyOne(call);
  });
  await Promise.all(workers);
  return result;
}
