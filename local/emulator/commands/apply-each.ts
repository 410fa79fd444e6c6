import { ImErrorCode } from '../error-codes.ts';
import type { ImAnswer } from '../im-answer.ts';
import type { CommandContext } from './types.ts';

/**
 * The write commands' common end, once every user of the call was checked: `change` is applied to each user the
 * answer does not fail on its own (an account not imported: 70107 in `ErrorList`, doc 269/100638).
 * @returns the answer, and how many users were changed (a command reports it to the counters or not)
 */
export function applyEach<E extends { readonly account: string }>(
  entries: readonly E[],
  { partialFailureAccounts }: CommandContext,
  change: (entry: E) => void,
): { readonly answer: ImAnswer; readonly applied: number } {
  const errorList: { To_Account: string; ErrorCode: number }[] = [];
  let applied = 0;
  for (const entry of entries) {
    if (partialFailureAccounts.has(entry.account)) {
      errorList.push({ To_Account: entry.account, ErrorCode: ImErrorCode.accountNotImported });
      continue;
    }
    change(entry);
    applied++;
  }
  return {
    answer: { code: ImErrorCode.ok, fields: errorList.length > 0 ? { ErrorList: errorList } : undefined },
    applied,
  };
}
