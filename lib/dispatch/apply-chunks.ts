/**
 * Applies chunks of ≤ 100 users through the IM client and sorts every user into applied, refused or
 * retryable. The client paces and retries each call; this layer decides what a failure means for the users.
 */
import { classifyErrorCode, isRetryableClass } from '../im/classify.ts';
import { ImError } from '../im/errors.ts';
import type { UserAttr } from '../rules/types.ts';
import type { AttrSetter, DispatchResult } from './types.ts';

export interface ApplyOptions {
  /** Epoch ms: no IM call starts that could not finish by then. */
  readonly deadlineMs?: number;
  /** Chunks started at once; the client's rate limiter does the pacing. Default 16. */
  readonly concurrency?: number;
  /** Splits a chunk IM refused as a whole with one of these codes, to find the bad users. Default 90033. */
  readonly bisectCodes?: ReadonlySet<number>;
}

// 90033 "invalid attribute": one bad user fails the whole call [inferred], so halving finds it in ≤ 7 levels.
const DEFAULT_BISECT = new Set([90033]);

export async function applyChunks(client: AttrSetter, chunks: readonly (readonly UserAttr[])[], options: ApplyOptions = {}): Promise<DispatchResult> {
  const result: DispatchResult = { applied: [], refused: [], retryable: [] };
  const bisectCodes = options.bisectCodes ?? DEFAULT_BISECT;
  const callOptions = options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs };
  // After a signature-wrong answer that survived a credentials re-read, every further call would fail the
  // same way and push IM toward its 70050 lock-out: stop starting calls and keep the rest for later.
  let halted: ImError | undefined;

  const applyOne = async (users: readonly UserAttr[]): Promise<void> => {
    if (halted !== undefined) {
      result.retryable.push({ users, errorCode: halted.errorCode, errorInfo: halted.errorInfo, attempted: false });
      return;
    }
    try {
      const { failedUsers } = await client.setAttr(users, callOptions);
      if (failedUsers.length === 0) {
        result.applied.push(...users);
        return;
      }
      // Partial success (ErrorList): the listed users failed on their own, the rest were applied. A listed
      // user whose code is worth retrying (e.g. 91000) is retried later, not refused.
      const failedBy = new Map(failedUsers.map((f) => [f.To_Account, f.errorCode]));
      for (const user of users) {
        const code = failedBy.get(user.To_Account);
        if (code === undefined) result.applied.push(user);
        else if (isRetryableClass(classifyErrorCode(code))) result.retryable.push({ users: [user], errorCode: code, errorInfo: `IM failed this user (ErrorCode ${code})`, attempted: true });
        else result.refused.push({ users: [user], errorCode: code, errorInfo: `IM refused this user (ErrorCode ${code})` });
      }
    } catch (error) {
      if (!(error instanceof ImError)) {
        // Not an answer from IM (e.g. the credentials could not be read): nothing is known against these
        // users, so they are kept for later rather than failing the whole dispatch.
        result.retryable.push({ users, errorCode: 0, errorInfo: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error', attempted: false });
        return;
      }
      if (error.errorClass === 'permanent') {
        if (users.length > 1 && bisectCodes.has(error.errorCode)) {
          const half = Math.ceil(users.length / 2);
          await Promise.all([applyOne(users.slice(0, half)), applyOne(users.slice(half))]);
          return;
        }
        result.refused.push({ users, errorCode: error.errorCode, errorInfo: error.errorInfo });
        return;
      }
      if (error.errorClass === 'signature-wrong') halted ??= error;
      result.retryable.push({ users, errorCode: error.errorCode, errorInfo: error.errorInfo, attempted: error.attempts > 0 });
    }
  };

  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency ?? 16, chunks.length) }, async () => {
    for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) await applyOne(chunk);
  });
  await Promise.all(workers);
  return result;
}
