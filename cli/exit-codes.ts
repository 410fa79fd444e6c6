/** The exit codes of `tim-attr`; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** Something failed: the whole command, or part of it (some users, letters or queues). */
  failed: 1,
  /** The command line or the configuration is wrong; nothing was changed. */
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT), after the work in flight was settled. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A mistake of the caller (an argument, a file, a setting): reported as one line naming the field and the
 * rule, exit code 2, nothing changed.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
