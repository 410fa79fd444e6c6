import { callEntries } from '../dispatch/write-call.ts';
import type { RefusedGroup } from '../dispatch/types.ts';
import type { Rejection } from '../rules/types.ts';

/** A rejected user as reported to the caller. */
export type ReportedRejection = Omit<Rejection, 'index'>;

/** Users IM refused for good, reported like the request rules' rejections (rule `im-error-<code>`). */
export function refusedToRejections(refused: readonly RefusedGroup[]): ReportedRejection[] {
  return refused.flatMap((group) =>
    callEntries(group.call).map((user) => ({
      To_Account: user.To_Account,
      path: 'UserAttrs',
      rule: `im-error-${group.errorCode}`,
      message: `IM refused user ${JSON.stringify(user.To_Account)} with ErrorCode ${group.errorCode}: ${group.errorInfo}`,
    })),
  );
}
