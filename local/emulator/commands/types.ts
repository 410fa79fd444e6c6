import type { AttrStore } from '../attr-store.ts';
import type { ImAnswer } from '../im-answer.ts';

/** What a command may read and change. */
export interface CommandContext {
  readonly store: AttrStore;
  /** Accounts answered with 70107 in ErrorList instead of being applied. */
  readonly partialFailureAccounts: ReadonlySet<string>;
}

/** A command's answer plus what it changed, for the counters. */
export interface CommandResult extends ImAnswer {
  readonly usersApplied?: number;
}

/** One IM command: the parsed JSON body in, the answer out. Runs synchronously, so calls never interleave. */
export type Command = (body: unknown, context: CommandContext) => CommandResult;
