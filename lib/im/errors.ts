/** The typed errors of the IM client. Messages never carry the request URL: its query holds the UserSig. */
import { TRANSPORT_ERROR_CODES } from './error-codes.ts';
import type { ErrorClass, ImUserError } from './types.ts';

/** Data carried by an {@link ImError}. */
export interface ImErrorDetails {
  /** The body's ErrorCode, or a negative transport pseudo-code (`TRANSPORT_ERROR_CODES`, `-httpStatus`). */
  readonly errorCode: number;
  /** The body's ErrorInfo, or a description of the transport failure. */
  readonly errorInfo: string;
  readonly errorClass: ErrorClass;
  /** `service/command`, e.g. `all_member_push/im_set_attr`. */
  readonly command: string;
  /** Attempts made before giving up (1 when nothing was retried). */
  readonly attempts: number;
  /** Per-user failures when the failed answer listed them. */
  readonly errorList?: readonly ImUserError[];
  readonly cause?: unknown;
}

/** An IM call that failed for good: its last ErrorCode, class and the number of attempts. */
export class ImError extends Error {
  override name = 'ImError';
  readonly errorCode: number;
  readonly errorInfo: string;
  readonly errorClass: ErrorClass;
  readonly command: string;
  readonly attempts: number;
  readonly errorList: readonly ImUserError[] | undefined;

  constructor(details: ImErrorDetails, message?: string) {
    super(
      message ??
        `IM ${details.command} failed with ErrorCode ${details.errorCode} (${details.errorClass}) after ${details.attempts} attempt(s): ${details.errorInfo}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.errorCode = details.errorCode;
    this.errorInfo = details.errorInfo;
    this.errorClass = details.errorClass;
    this.command = details.command;
    this.attempts = details.attempts;
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
        cause,
      },
      `IM ${command}: no time left before the deadline to start attempt ${attempts + 1}`,
    );
    this.deadlineMs = deadlineMs;
  }
}
