/** The typed errors of the IM client. Messages never carry the request URL: its query holds the UserSig. */
import { TRANSPORT_ERROR_CODES } from './error-codes.ts';
import { WriteRefusedError, type WriteRefusal } from '../core/errors.ts';
import type { ImUserError } from './types.ts';

/** Data carried by an {@link ImError}: the core's refusal, and what only IM knows. */
export interface ImErrorDetails extends WriteRefusal {
  /** `service/command`, e.g. `all_member_push/im_set_attr`. */
  readonly command: string;
  /** Per-user failures when the failed answer listed them. */
  readonly errorList?: readonly ImUserError[];
}

/**
 * An IM call that failed for good: its last ErrorCode (or a negative transport pseudo-code,
 * `TRANSPORT_ERROR_CODES`, `-httpStatus`), its retry class and the number of attempts. It is the core's
 * {@link WriteRefusedError}: the core reads the code and the class, never anything of IM's.
 */
export class ImError extends WriteRefusedError {
  override name = 'ImError';
  readonly command: string;
  readonly errorList: readonly ImUserError[] | undefined;

  constructor(details: ImErrorDetails, message?: string) {
    super(
      details,
      message ??
        `IM ${details.command} failed with ErrorCode ${details.errorCode} (${details.errorClass}) after ${details.attempts} attempt(s): ${details.errorInfo}`,
    );
    this.command = details.command;
    this.errorList = details.errorList;
  }
}

/**
 * No time was left before the caller's deadline to start (another) attempt that could finish.
 * It is 'transient' (the same request may succeed later, e.g. from a queue) and its `cause` is the
 * previous attempt's error, if any.
 */
export class DeadlineError extends ImError {
  override name = 'DeadlineError';
  /** The deadline, in epoch ms. */
  readonly deadlineMs: number;

  constructor(command: string, attempts: number, deadlineMs: number, cause?: unknown) {
    super(
      {
        errorCode: TRANSPORT_ERROR_CODES.deadline,
        errorInfo: 'no time left before the deadline to start an attempt',
        errorClass: 'transient',
        command,
        attempts,
        deadlineReached: true,
        cause,
      },
      `IM ${command}: no time left before the deadline to start attempt ${attempts + 1}`,
    );
    this.deadlineMs = deadlineMs;
  }
}
