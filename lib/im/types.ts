/** Shared types of the IM REST client. */
import type { RetryClass } from '../core/errors.ts';

/** What to do about an answer: the retry class of its ErrorCode (see `IM_ERROR_CODES`, doc 269/1671). */
export type ErrorClass = 'ok' | RetryClass;

/** One per-user failure in a partial-success answer (`ErrorList`, doc 269/100638). */
export interface ImUserError {
  readonly To_Account: string;
  readonly ErrorCode: number;
}

/** The body of every IM REST answer; commands add their own fields. */
export interface ImResponseBody {
  readonly ActionStatus: string;
  readonly ErrorCode: number;
  readonly ErrorInfo: string;
  readonly ErrorList?: readonly ImUserError[];
  readonly [field: string]: unknown;
}

/** Reported after every attempt, for metrics and logs (never carries secrets). */
export interface AttemptEvent {
  /** `service/command`, e.g. `all_member_push/im_set_attr`. */
  readonly command: string;
  /** The body's ErrorCode, or a transport pseudo-code (see `TRANSPORT_ERROR_CODES`). */
  readonly errorCode: number;
  readonly errorClass: ErrorClass;
  readonly latencyMs: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
}
